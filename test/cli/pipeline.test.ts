import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp.js';
import { ppuuInProcess } from '../helpers/cli.js';

const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8' });

test('ppuu pipeline runs every stage on a short synthetic slot, writes the table, report.json and app.json, and resumes', { timeout: 600_000 }, async () => {
  const out = tempDir('ppuu-pipeline-');
  try {
    const args = ['pipeline', '--preset', 'tiny', '--out', out, '--minutes', '1', '--steps', '3', '--workers', '1', '--mpc-episodes', '2'];
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
    for (const name of ['no-action', 'idm', 'mpur', 'il', 'vg-km', 'mpur-km', 'mpur-km-real', 'mpc']) {
      const rate = report.steps[`eval-${name}`].successRate.mean;
      assert.ok(rate >= 0 && rate <= 1, `eval-${name} success rate is a fraction`);
    }
    assert.ok(existsSync(join(out, 'policy-mpur', 'seed-1', 'checkpoint')));
    // The paper's table: every method's row, from the evaluations above, with the paper's figures where it has them.
    const table = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.deepEqual(table.rows.map((r: { name: string }) => r.name), ['replay', 'no-action', 'idm', 'il', 'mpur', 'vg-km', 'mpur-km', 'mpur-km-real', 'mpc']);
    for (const r of table.rows) {
      const e = report.steps[`eval-${r.name}`];
      assert.ok(Math.abs(r.successPct.mean - 100 * e.successRate.mean) < 1e-9, `${r.name} success`);
      assert.ok(Math.abs(r.distanceM.mean - e.meanDistanceM.mean) < 1e-9, `${r.name} distance`);
      // Each row carries its controller's compute per simulator step, from the same evaluation.
      assert.ok(r.msPerStep > 0 && Math.abs(r.msPerStep - e.controllerTiming.msPerCall) < 1e-9, `${r.name} ms per step`);
    }
    // MPC drives the preset's first test episodes only (planning runs the world model per car and step).
    const mpc = table.rows.find((r: { name: string }) => r.name === 'mpc');
    assert.ok(mpc.episodes === 2 && mpc.learned === false, `mpc row: ${JSON.stringify(mpc)}`);
    assert.match(mpc.label, /first 2 test episodes/);
    assert.equal(table.rows.find((r: { name: string }) => r.name === 'mpur').paper.successPct, '74.8 ± 3.0');
    assert.ok(['il', 'mpur', 'vg-km', 'mpur-km', 'mpur-km-real'].includes(table.best.name));
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    assert.match(md, /\| MPUR-KM, real future \| 1 \| /);
    const png = readFileSync(join(out, 'results.png'));
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'results.png is a PNG');
    // The app's suite: the best policy first, every learned policy, the baselines; it validates as a scenario file.
    const { loadScenarioFile } = await import('../../scenarios/validate.js');
    const suite = loadScenarioFile(join(out, 'app.json'));
    assert.equal(suite.scenarios.length, 8);
    assert.ok(suite.scenarios.some((s: { controller: { kind: string } }) => s.controller.kind === 'mpc'), 'the app can switch to MPC');
    assert.match(suite.scenarios[0]!.name, /\(best\)$/);
    // A second run skips every finished step, training and evaluation included.
    const again = ppuu([...args, '--json']);
    assert.equal(again.status, 0, again.stderr);
    const second = JSON.parse(again.stdout);
    for (const [name, step] of Object.entries(second.steps)) assert.equal((step as { skipped?: boolean }).skipped, true, `${name} skipped`);
    assert.deepEqual(second.results.rows, table.rows);
    // Other settings in the same folder are refused instead of mixing old data with new steps.
    const other = await ppuuInProcess(['pipeline', '--preset', 'tiny', '--out', out, '--minutes', '2', '--steps', '3', '--workers', '1', '--mpc-episodes', '2']);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /holds a pipeline run with other settings/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('ppuu pipeline with an unknown preset is a one-line error with exit 2', async () => {
  const r = await ppuuInProcess(['pipeline', '--preset', 'huge']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--preset must be tiny, small or paper/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
