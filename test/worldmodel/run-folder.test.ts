/**
 * The --out folder of `train fm` and `train policy` (worldmodel/run-folder.ts): --resume with
 * nothing to resume is refused and writes nothing, an unrelated non-empty folder is refused, a
 * run that fails before its first checkpoint leaves no log.jsonl behind, a resume without
 * --steps continues to the run's own --steps, and a signal during training (common/interrupt.ts,
 * simulated in-process) saves a checkpoint from which --resume continues the same curve.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainForwardModel } from '../../worldmodel/fm/train.js';
import { trainPolicy } from '../../policy/mpur.js';
import { Interrupted, resetInterruptRequest, simulateSignal } from '../../common/interrupt.js';
import { UserError } from '../../common/errors.js';
import { recordedTargetSteps as fmTargetSteps } from '../../worldmodel/fm/checkpoint.js';
import { recordedTargetSteps as policyTargetSteps } from '../../policy/checkpoint.js';
import { setup, tempDir, tinyDataset } from '../policy/helpers.js';

before(setup);

const fm = (out: string, extra: Partial<Parameters<typeof trainForwardModel>[0]> = {}) =>
  trainForwardModel({ dataset: tinyDataset(), out, preset: 'tiny', kind: 'deterministic', steps: 3, prefetch: false, overrides: { npred: 1 }, ...extra });
const il = (out: string, extra: Partial<Parameters<typeof trainPolicy>[0]> = {}) =>
  trainPolicy({ dataset: tinyDataset(), out, method: 'il', steps: 3, prefetch: false, ...extra });
const totals = (out: string) => readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { total: number }).total);

async function refuses(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof UserError && e.exitCode === 2 && !e.message.includes('\n') && re.test(e.message));
}

test('--resume with nothing to resume is refused and writes nothing; an existing log is not touched', async () => {
  const root = tempDir('ppuu-runfolder-');
  const out = join(root, 'none');
  await refuses(fm(out, { resume: true }), /none: nothing to resume \(no forward-model checkpoint in .*checkpoint\); drop --resume/);
  await refuses(il(out, { resume: true }), /nothing to resume \(no policy checkpoint/);
  assert.equal(existsSync(out), false);
  const crashed = join(root, 'crashed');
  mkdirSync(crashed);
  writeFileSync(join(crashed, 'log.jsonl'), '{"step":1,"total":0.5}\n');
  await refuses(fm(crashed, { resume: true }), /nothing to resume/);
  await refuses(fm(crashed), /holds log\.jsonl of a run that saved no checkpoint/);
  await refuses(il(crashed), /holds log\.jsonl of a run that saved no checkpoint/);
  assert.equal(readFileSync(join(crashed, 'log.jsonl'), 'utf8'), '{"step":1,"total":0.5}\n');
});

test('a new run refuses an unrelated non-empty --out, as synth and dump do', async () => {
  const out = tempDir('ppuu-runfolder-');
  writeFileSync(join(out, 'notes.txt'), 'mine\n');
  await refuses(fm(out), /exists, is not empty and holds no forward-model checkpoint \(notes\.txt\); choose another --out/);
  await refuses(il(out), /holds no policy checkpoint \(notes\.txt\)/);
  assert.deepEqual(readdirSync(out), ['notes.txt']);
});

test('a run that fails before its first checkpoint leaves no log.jsonl and no folder behind', async () => {
  const root = tempDir('ppuu-runfolder-');
  const out = join(root, 'run');
  // npred 60 needs 64-frame windows; the tiny dataset's episodes have 40 frames.
  await refuses(fm(out, { overrides: { npred: 60 } }), /no training episode has the 64 frames/);
  assert.equal(existsSync(out), false);
  // A failure in the first step (here: thrown by the progress callback).
  const boom = () => {
    throw new Error('boom');
  };
  await assert.rejects(fm(out, { onStep: boom, checkpointEvery: 100 }), /boom/);
  assert.equal(existsSync(out), false);
  await assert.rejects(il(out, { onStep: boom, checkpointEvery: 100 }), /boom/);
  assert.equal(existsSync(out), false);
  // An empty folder given by the user stays, empty.
  const empty = join(root, 'empty');
  mkdirSync(empty);
  await refuses(fm(empty, { overrides: { npred: 60 } }), /no training episode/);
  assert.deepEqual(readdirSync(empty), []);
});

test('a signal during training saves a checkpoint; --resume continues the same curve (fm and policy)', async () => {
  const root = tempDir('ppuu-runfolder-');
  const full = join(root, 'full');
  await fm(full, { steps: 4, checkpointEvery: 100 });
  const cut = join(root, 'cut');
  const interrupted = fm(cut, { steps: 4, checkpointEvery: 100, onStep: (s) => s.step === 2 && simulateSignal('SIGINT') });
  await assert.rejects(interrupted, (e: unknown) => e instanceof Interrupted && e.exitCode === 130 && /interrupted by SIGINT; checkpoint at step 2 saved/.test(e.message));
  resetInterruptRequest();
  const r = await fm(cut, { steps: 4, resume: true, checkpointEvery: 100 });
  assert.equal(r.startStep, 2);
  assert.deepEqual(totals(cut), totals(full));

  const pFull = join(root, 'p-full');
  await il(pFull, { steps: 4, checkpointEvery: 100 });
  const pCut = join(root, 'p-cut');
  await assert.rejects(il(pCut, { steps: 4, checkpointEvery: 100, onStep: (s) => s.step === 3 && simulateSignal('SIGTERM') }), /interrupted by SIGTERM; checkpoint at step 3/);
  resetInterruptRequest();
  assert.equal((await il(pCut, { steps: 4, resume: true })).startStep, 3);
  assert.deepEqual(totals(pCut), totals(pFull));
});

test('the run records its --steps, which a resume without --steps continues to (fm and policy)', async () => {
  const root = tempDir('ppuu-runfolder-');
  assert.equal(fmTargetSteps(join(root, 'none')), null);
  await fm(join(root, 'fm'), { steps: 2 });
  assert.equal(fmTargetSteps(join(root, 'fm')), 2);
  await il(join(root, 'il'), { steps: 2 });
  assert.equal(policyTargetSteps(join(root, 'il')), 2);
});
