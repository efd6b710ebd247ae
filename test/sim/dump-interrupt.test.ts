/**
 * A signal during a one-thread `data dump` (simulated in-process, common/interrupt.ts): the
 * writer stops between episodes, no half-written episode or manifest is left, Interrupted
 * (exit code 130) is thrown, and the same dump resumes to the same dataset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Interrupted, resetInterruptRequest, simulateSignal } from '../../common/interrupt.js';
import { dumpDataset } from '../../sim/io/dump.js';
import { writeTraffic } from './helpers/traffic.js';

test('a signal stops a one-thread dump between episodes; the re-run resumes to the same dataset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ppuu-dump-signal-'));
  const tracks = await writeTraffic({ perLane: 2, lanes: [1, 2, 3] }, join(dir, 'tracks'));
  const whole = join(dir, 'whole');
  await dumpDataset({ trajectories: tracks, out: whole, workers: 1 });
  const out = join(dir, 'cut');
  await assert.rejects(
    dumpDataset({ trajectories: tracks, out, workers: 1, onProgress: (done) => done === 2 && simulateSignal('SIGINT') }),
    (e: unknown) => e instanceof Interrupted && e.exitCode === 130 && /2 episodes written/.test(e.message),
  );
  resetInterruptRequest();
  assert.equal(existsSync(join(out, 'manifest.json')), false);
  const left = readdirSync(join(out, 'episodes'));
  assert.deepEqual(left.filter((f) => f.includes('.tmp-')), []);
  assert.equal(left.length, 2);
  const s = await dumpDataset({ trajectories: tracks, out, workers: 1 });
  assert.deepEqual([s.resumed, s.written], [2, 4]);
  const strip = (f: string) => {
    const m = JSON.parse(readFileSync(f, 'utf8')) as { sources: unknown; writtenBy: unknown };
    return { ...m, sources: null, writtenBy: null };
  };
  assert.deepEqual(strip(join(out, 'manifest.json')), strip(join(whole, 'manifest.json')));
});
