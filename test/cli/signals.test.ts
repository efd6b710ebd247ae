/**
 * SIGINT / SIGTERM on real `ppuu` processes (common/interrupt.ts, installed by bin/ppuu.js):
 * `data synth`, `data dump` and `pipeline` remove their temporary `.NAME.tmp-XXXX/` folders and
 * exit with 130 (a dump re-run resumes); `train fm` finishes its step, saves a checkpoint (with --checkpoint-every far away) and
 * exits with 130, and --resume continues from that checkpoint; `eval` stops within seconds and
 * writes no report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyDataset } from '../helpers/tiny-dataset.js';
import { writeTraffic } from '../sim/helpers/traffic.js';

function start(args: string[]): { child: ChildProcess; stderr: () => string; exit: Promise<{ code: number | null; signal: string | null }> } {
  const child = spawn(process.execPath, ['bin/ppuu.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: string | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  return { child, stderr: () => err, exit };
}

/** Polls `cond` every 50 ms until it holds (or `ms` pass: then fails with `what`). */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const temps = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-'));

test('SIGINT during data synth removes the temporary folder and exits with 130', { timeout: 90_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'ppuu-signal-'));
  const out = join(root, 'synth');
  const p = start(['data', 'synth', '--minutes', '15', '--out', out]);
  await until(() => temps(root).some((f) => f.startsWith('.synth.tmp-')), 60_000, 'the temporary folder');
  await new Promise((r) => setTimeout(r, 300));
  p.child.kill('SIGINT');
  const r = await p.exit;
  assert.equal(r.code, 130, p.stderr());
  assert.match(p.stderr(), /interrupted by SIGINT/);
  assert.deepEqual(temps(root), []);
  assert.equal(existsSync(out), false);
});

test('SIGINT during data dump (2 workers) removes half-written episodes, exits with 130, and a re-run resumes', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'ppuu-signal-'));
  const { generateSynthetic } = await import('../../data/synth/generate.js');
  await generateSynthetic(join(root, 'synth'), { slots: ['0400-0415'], minutes: 0.5, seed: 3, warmupS: 30 });
  const out = join(root, 'ds');
  const episodes = join(out, 'episodes');
  const p = start(['data', 'dump', '--trajectories', join(root, 'synth'), '--out', out, '--workers', '2']);
  await until(() => existsSync(episodes) && readdirSync(episodes).filter((f) => !f.startsWith('.')).length >= 4, 90_000, 'four written episodes');
  p.child.kill('SIGINT');
  const r = await p.exit;
  assert.equal(r.code, 130, p.stderr());
  assert.match(p.stderr(), /interrupted by SIGINT; \d+ episodes written to .*; the same command resumes the dump/);
  assert.deepEqual(temps(episodes), []);
  assert.equal(existsSync(join(out, 'manifest.json')), false);
  const { dumpDataset } = await import('../../sim/io/dump.js');
  const s = await dumpDataset({ trajectories: join(root, 'synth'), out, workers: 2 });
  assert.ok(s.resumed >= 4 && s.written > 0, `resumed ${s.resumed}, written ${s.written}`);
});

test('SIGINT during train fm saves a checkpoint, exits with 130, and --resume continues from it', { timeout: 120_000 }, async () => {
  const data = writeTinyDataset({ n: 6, length: 30, seed: 4 });
  const root = mkdtempSync(join(tmpdir(), 'ppuu-signal-'));
  const out = join(root, 'run');
  // The default npred: a step long enough that prefetched batches are always ready, so no await
  // of the loop waits on a worker (the case where a signal used to wait for the end of the run).
  const args = ['train', 'fm', '--data', data, '--out', out, '--preset', 'tiny', '--model', 'deterministic'];
  const p = start([...args, '--steps', '100000', '--checkpoint-every', '100000']);
  const logLines = () => (existsSync(join(out, 'log.jsonl')) ? readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').filter((l) => l).length : 0);
  await until(() => logLines() >= 2, 90_000, 'two logged steps');
  const atSignal = logLines();
  p.child.kill('SIGINT');
  const r = await Promise.race([p.exit, new Promise<null>((done) => setTimeout(() => done(null), 20_000))]);
  if (r === null) p.child.kill('SIGKILL');
  assert.ok(r !== null, `still running 20 s after SIGINT (${logLines()} steps logged, ${atSignal} at the signal)`);
  assert.equal(r.code, 130, p.stderr());
  assert.match(p.stderr(), /interrupted by SIGINT; checkpoint at step \d+ saved/);
  assert.equal(p.stderr().trim().split('\n').filter((l) => l.startsWith('ppuu: interrupted')).length, 1, p.stderr());
  const state = JSON.parse(readFileSync(join(out, 'checkpoint', 'train-state.json'), 'utf8')) as { step: number };
  assert.ok(state.step >= 2, `saved at step ${state.step}`);
  // The step running when the signal came finishes; no further one starts (a few at most, for the log's lag).
  assert.ok(state.step <= atSignal + 3, `saved at step ${state.step}, ${atSignal} logged at the signal`);
  assert.equal(logLines(), state.step);
  assert.deepEqual(temps(root), []);
  assert.deepEqual(temps(out), []);
  const { trainForwardModel } = await import('../../worldmodel/fm/train.js');
  const { initFmBackend } = await import('../../worldmodel/fm/setup.js');
  await initFmBackend(undefined, { training: true });
  const s = await trainForwardModel({ dataset: data, out, steps: state.step + 1, resume: true, prefetch: false });
  assert.equal(s.startStep, state.step);
  assert.equal(logLines(), state.step + 1);
});

test('SIGTERM to pipeline reaches its running step; temporary folders go, exit code 130', { timeout: 90_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'ppuu-signal-'));
  const out = join(root, 'run');
  const p = start(['pipeline', '--preset', 'tiny', '--minutes', '15', '--out', out]);
  await until(() => existsSync(out) && temps(out).some((f) => f.startsWith('.synth.tmp-')), 60_000, "the synth step's temporary folder");
  await new Promise((r) => setTimeout(r, 300));
  p.child.kill('SIGTERM');
  const r = await p.exit;
  assert.equal(r.code, 130, p.stderr());
  assert.match(p.stderr(), /interrupted by SIGTERM; step 'ppuu data synth' stopped/);
  assert.deepEqual(temps(out), []);
  assert.equal(existsSync(join(out, 'synth')), false);
});

test('SIGINT during eval stops it within seconds, exits with 130 and writes no report', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'ppuu-signal-'));
  await writeTraffic({ perLane: 2, lanes: [1, 2, 3] }, join(root, 'tracks', '0400-0415'));
  const ds = join(root, 'ds');
  const dump = start(['data', 'dump', '--trajectories', join(root, 'tracks'), '--out', ds, '--workers', '1']);
  assert.equal((await dump.exit).code, 0, dump.stderr());
  // 1000 seeds of IDM on 6 episodes: about a minute when nothing interrupts it.
  const report = join(root, 'report.json');
  const p = start(['eval', '--data', ds, '--split', 'train', '--policy', 'idm', '--seeds', '1000', '--out', report]);
  await until(() => /eval: \d+\/\d+ episodes/.test(p.stderr()), 60_000, 'the first progress line');
  p.child.kill('SIGINT');
  const r = await Promise.race([p.exit, new Promise<null>((done) => setTimeout(() => done(null), 10_000))]);
  if (r === null) p.child.kill('SIGKILL');
  assert.ok(r !== null, 'still running 10 s after SIGINT');
  assert.equal(r.code, 130, p.stderr());
  assert.match(p.stderr(), /interrupted by SIGINT/);
  assert.equal(existsSync(report), false, 'no report from an interrupted evaluation');
  assert.deepEqual(temps(root), []);
});
