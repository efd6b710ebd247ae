import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8' });

test('ppuu pipeline runs every stage on a short synthetic slot, writes report.json and resumes', () => {
  const out = mkdtempSync(join(tmpdir(), 'ppuu-pipeline-'));
  try {
    const args = ['pipeline', '--preset', 'tiny', '--out', out, '--minutes', '1', '--steps', '3', '--workers', '1'];
    const r = ppuu([...args, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report, JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    assert.equal(report.settings.minutes, 1);
    assert.equal(report.steps.synth.slots[0].slot, '0400-0415');
    assert.equal(report.steps.synth.minutes, 1);
    assert.ok(report.steps.dump.episodes > 0, 'the dump wrote episodes');
    for (const h of report.steps['eval-fm'].horizons) assert.ok(Number.isFinite(h.image.model) && h.image.model > 0);
    assert.ok(report.steps['eval-replay'].successRate.mean > 0.5, 'replaying the logs mostly succeeds');
    assert.ok(existsSync(join(out, 'fm-vae', 'frames.png')));
    for (const name of ['no-action', 'idm', 'mpur', 'il']) {
      const rate = report.steps[`eval-${name}`].successRate.mean;
      assert.ok(rate >= 0 && rate <= 1, `eval-${name} success rate is a fraction`);
    }
    assert.ok(existsSync(join(out, 'policy-mpur', 'checkpoint')));
    // A second run skips the finished data steps.
    const again = ppuu([...args, '--json']);
    assert.equal(again.status, 0, again.stderr);
    const second = JSON.parse(again.stdout);
    assert.equal(second.steps.synth.skipped, true);
    assert.equal(second.steps.dump.skipped, true);
    // Other settings in the same folder are refused instead of mixing old data with new steps.
    const other = ppuu(['pipeline', '--preset', 'tiny', '--out', out, '--minutes', '2', '--steps', '3', '--workers', '1']);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /holds a pipeline run with other settings/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('ppuu pipeline with an unknown preset is a one-line error with exit 2', () => {
  const r = ppuu(['pipeline', '--preset', 'huge']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--preset must be tiny, small or paper/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
