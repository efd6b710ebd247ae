import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDirOnce } from '../../common/atomic.js';
import { synthCodeVersion } from '../../data/synth/code-version.js';
import { synthCacheDir, synthCacheEntry, synthStore } from '../../scenarios/traffic.js';

test('writeDirOnce: of two concurrent builders the first to finish is kept, the other discarded; nothing else is left', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ppuu-once-'));
  try {
    const dir = join(root, 'entry');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const build = (who: string, wait: boolean) => async (path: string) => {
      assert.equal(existsSync(path), false, 'a fresh path');
      mkdirSync(path);
      writeFileSync(join(path, 'who.txt'), who);
      if (wait) await gate;
    };
    // A starts first but finishes last.
    const a = writeDirOnce(dir, build('a', true));
    const b = writeDirOnce(dir, build('b', false));
    assert.equal(await b, true);
    release();
    assert.equal(await a, false);
    assert.equal(readFileSync(join(dir, 'who.txt'), 'utf8'), 'b');
    assert.deepEqual(readdirSync(root), ['entry']);
    // A failing build leaves the kept folder and no temporary one.
    await assert.rejects(writeDirOnce(join(root, 'other'), () => {
      throw new Error('boom');
    }), /boom/);
    assert.deepEqual(readdirSync(root), ['entry']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the synthetic-traffic cache is keyed by the generator\'s code version and reused', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'ppuu-cache-test-'));
  const before = process.env.PPUU_CACHE;
  process.env.PPUU_CACHE = cache;
  try {
    const v = synthCodeVersion();
    assert.match(v, /^[0-9a-f]{12}$/);
    assert.equal(synthCacheEntry(3, '0400-0415', 0.1), join(synthCacheDir(), v, 'seed3-0400-0415-0.1min'));
    const x = await synthStore(3, '0400-0415', 0.1);
    assert.ok(x.store.vehicles.length > 0);
    assert.deepEqual(readdirSync(join(synthCacheDir(), v)), ['seed3-0400-0415-0.1min']);
    // A second call reads the entry instead of generating it again.
    const stamp = join(synthCacheEntry(3, '0400-0415', 0.1), 'synth.json');
    const written = readFileSync(stamp, 'utf8');
    writeFileSync(stamp, written.replace('"seed": 3', '"seed": 3, "reused": true'));
    const y = await synthStore(3, '0400-0415', 0.1);
    assert.match(readFileSync(stamp, 'utf8'), /"reused": true/);
    assert.deepEqual(y.store.vehicles.map((t) => t.vehicleId), x.store.vehicles.map((t) => t.vehicleId));
    // The store records where its raw file lives: in the cache entry, not a build folder.
    const manifest = JSON.parse(readFileSync(join(x.dir, 'tracks.json'), 'utf8')) as { sources: Array<{ file: string }> };
    assert.equal(manifest.sources[0]!.file, join(synthCacheEntry(3, '0400-0415', 0.1), 'trajectories-0400-0415.txt'));
    assert.ok(existsSync(manifest.sources[0]!.file));
  } finally {
    if (before === undefined) delete process.env.PPUU_CACHE;
    else process.env.PPUU_CACHE = before;
    rmSync(cache, { recursive: true, force: true });
  }
});
