/**
 * One policy-training step and the policy's run-time forward pass (policy/), on random inputs
 * and freshly initialised networks of a preset: median wall time of
 *   vg     the rollout through the frozen model (npred steps), the costs and their gradient
 *          (the baseline, measured in the same run),
 *   mpur   the same plus the uncertainty term (K dropout copies of the rollout),
 *   mpur-km  the kinematic-ego method at mpur's batch and horizon: the world imagined without
 *          gradient, the kinematic rollout and costs, the one-step uncertainty every uStride steps,
 *   vg-km-real  the kinematic-ego method through the logged future (no model),
 *   vg-km-real-ego  the same with the policy reading the frames resampled to the kinematic
 *          ego's view (`--view ego`: the image code step by step; its baseline is vg-km-real),
 *   ...Ops  mpur, mpur-km and vg-km-real with the host ops switched off (setHostOps(false): the
 *          tfjs ops they replace, the baseline of the host ops measured in the same run),
 *   il     one-step imitation (the policy alone),
 *   act    the controller's forward pass for `cars` controlled cars (one lockstep step),
 *   mpc    one MPC step (policy/mpc.ts) for the same `cars` cars: the reference future and
 *          `--mpc-iters` Adam iterations over a `--horizon`-step plan (defaults MPC_DEFAULTS),
 * the ratio mpur / vg (the price of U), and whether tf.memory().numTensors stays flat.
 *
 *   npm run bench -- policy-step [--preset tiny|small|paper] [--batch B] [--npred N] [--k K]
 *                                [--cars N] [--horizon H] [--mpc-iters N] [--steps 4] [--warmup 2]
 *                                [--backend NAME] [--json]
 */
import * as tf from '@tensorflow/tfjs';
import { cpus, loadavg } from 'node:os';
import { Rng } from '../common/rng.js';
import { initFmBackend } from '../worldmodel/fm/setup.js';
import { hostOps, setHostOps } from '../worldmodel/backend.js';
import { fmConfig } from '../worldmodel/fm/config.js';
import { IMAGE_H, IMAGE_W, STATE_DIM, STATE_ROWS } from '../data/layout.js';
import { ForwardModel } from '../worldmodel/fm/model.js';
import { Adam } from '../worldmodel/fm/adam.js';
import { randomWindowBatch } from '../worldmodel/fm/windows.js';
import type { NormStats } from '../data/dataset-types.js';
import { I80_MAP } from '../sim/map.js';
import { PolicyNetwork } from '../policy/network.js';
import { policyNetConfig, policyTrainConfig, type PolicyMethod } from '../policy/config.js';
import { policyStep, stepNoise } from '../policy/mpur.js';
import { policyController } from '../policy/controller.js';
import { MPC_DEFAULTS, MpcPlanner } from '../policy/mpc.js';
import type { EpisodeView } from '../sim/controllers/controller.js';
import type { UStats } from '../policy/uncertainty.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1]!;
}
const preset = flag('preset', 'tiny');
const steps = Number(flag('steps', '4'));
const warmup = Number(flag('warmup', '2'));
const cars = Number(flag('cars', '50'));
const json = process.argv.includes('--json');
const backend = await initFmBackend(process.argv.includes('--backend') ? flag('backend', '') : undefined, { training: true });

const fmCfg = fmConfig(preset);
const over = {
  batch: process.argv.includes('--batch') ? Number(flag('batch', '')) : undefined,
  npred: process.argv.includes('--npred') ? Number(flag('npred', '')) : undefined,
  k: process.argv.includes('--k') ? Number(flag('k', '')) : undefined,
};
const STATS: NormStats = { stateMean: [900, 120, 55, 0], stateStd: [400, 40, 20, 1], actionMean: [0, 0], actionStd: [4, 0.001] };


function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

const model = ForwardModel.create(fmCfg, 'vae', 1);
model.setTrainable(false);

/** A training-step runner for `method`; its steps are timed interleaved with the others' so that load hits all alike. */
function stepper(method: PolicyMethod, extra: Parameters<typeof policyTrainConfig>[2] = {}, host = true) {
  const cfg = policyTrainConfig(preset, method, method === 'il' ? { batch: over.batch } : { ...over, ...extra });
  const policy = PolicyNetwork.create(policyNetConfig(preset, fmCfg.ncond, fmCfg.channels), 1);
  const adam = new Adam(policy.weights, { learningRate: cfg.learningRate });
  const z = Array(cfg.npred).fill(0);
  const uStats: UStats = { npred: cfg.npred, samples: 1, imageMean: z, imageStd: z.map(() => 1e-4), stateMean: z, stateStd: z.map(() => 1e-3), costMean: z, costStd: z.map(() => 1e-4) };
  const times: number[] = [];
  const counts: number[] = [];
  return {
    cfg,
    async step(k: number, timed: boolean): Promise<void> {
      const wb = randomWindowBatch({ batch: cfg.batch, ncond: fmCfg.ncond, npred: cfg.npred, channels: fmCfg.channels }, k);
      const before = tf.memory().numTensors;
      const was = setHostOps(host);
      const t0 = performance.now();
      await policyStep({ model, policy, cfg, stats: STATS, uStats, noise: stepNoise(1, k) }, adam, wb);
      if (timed) times.push(performance.now() - t0);
      setHostOps(was);
      counts.push(tf.memory().numTensors - before);
    },
    result() {
      adam.dispose();
      policy.dispose();
      // Steps after the first leave the tensor count where they found it.
      return { ms: median(times), flat: counts.slice(1).every((c) => c === 0), batch: cfg.batch, npred: cfg.npred, k: cfg.k };
    },
  };
}

const mpurCfg = policyTrainConfig(preset, 'mpur', over);
const same = { batch: mpurCfg.batch, npred: mpurCfg.npred };
const runners = {
  vg: stepper('vg'), mpur: stepper('mpur'), il: stepper('il'), mpurKm: stepper('mpur-km', same), vgKmReal: stepper('vg-km', { ...same, future: 'real' }),
  vgKmRealEgo: stepper('vg-km', { ...same, future: 'real', view: 'ego' }),
  mpurOps: stepper('mpur', {}, false), mpurKmOps: stepper('mpur-km', same, false), vgKmRealOps: stepper('vg-km', { ...same, future: 'real' }, false),
};
for (let k = 0; k < warmup + steps; k++) for (const r of Object.values(runners)) await r.step(k, k >= warmup); // warm-up steps fill kernel caches
const vg = runners.vg.result();
const mpur = runners.mpur.result();
const il = runners.il.result();
const mpurKm = runners.mpurKm.result();
const vgKmReal = runners.vgKmReal.result();
const vgKmRealEgo = runners.vgKmRealEgo.result();
const mpurOps = runners.mpurOps.result();
const mpurKmOps = runners.mpurKmOps.result();
const vgKmRealOps = runners.vgKmRealOps.result();

// Run time: the controller on one lockstep step of `cars` cars, 20 buffered frames each.
const policy = PolicyNetwork.create(policyNetConfig(preset, fmCfg.ncond, fmCfg.channels), 1);
const ctl = policyController({ policy, hyper: null as never, stats: STATS, dir: 'bench' }, 'bench');
const T = 20;
const rng = new Rng(3);
const images = Uint8Array.from({ length: cars * T * IMAGE_H * IMAGE_W * fmCfg.channels }, () => rng.int(256));
const states = Float32Array.from({ length: cars * T * 4 }, () => rng.uniform(0, 100));
const actTimes: number[] = [];
for (let k = 0; k < warmup + steps; k++) {
  const t0 = performance.now();
  await ctl.act({ n: cars, map: I80_MAP, contextFrames: T, channels: fmCfg.channels, episodes: [], images, states });
  if (k >= warmup) actTimes.push(performance.now() - t0);
}
policy.dispose();

// MPC for the same cars: every step plans from scratch (new vehicle ids), as for a car's first step.
const horizon = Number(flag('horizon', String(MPC_DEFAULTS.horizon)));
const mpcIters = Number(flag('mpc-iters', String(MPC_DEFAULTS.iters)));
const mpc = new MpcPlanner(model, STATS, { horizon, iters: mpcIters, learningRate: MPC_DEFAULTS.learningRate, weights: { gamma: 0.99, lambdaL: 1, lambdaO: 0, lambdaF: 1 } });
const mpcTimes: number[] = [];
for (let k = 0; k < warmup + steps; k++) {
  const episodes: EpisodeView[] = Array.from({ length: cars }, (_, i) => ({
    vehicleId: k * cars + i, frame: 100, state: { xPx: 1000 + 40 * i, yPx: 120, dirX: 1, dirY: 0, speedPxPerS: 80 },
    lengthPx: 28, widthPx: 12, neighbours: new Float32Array(STATE_ROWS * STATE_DIM), mask: new Uint8Array(STATE_ROWS), loggedAction: null,
  }));
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  await mpc.plan({ n: cars, map: I80_MAP, contextFrames: T, channels: fmCfg.channels, episodes, images, states });
  if (k >= warmup) mpcTimes.push(performance.now() - t0);
  if (k > 0 && tf.memory().numTensors !== before) throw new Error(`mpc step ${k} leaked ${tf.memory().numTensors - before} tensors`);
}

const result = {
  bench: 'policy-step', preset, backend: backend.name, cores: cpus().length, loadavg: loadavg().map((l) => +l.toFixed(2)),
  batch: mpur.batch, npred: mpur.npred, k: mpur.k,
  vgStepMs: +vg.ms.toFixed(1), mpurStepMs: +mpur.ms.toFixed(1), mpurOverVg: +(mpur.ms / vg.ms).toFixed(2),
  mpurKmStepMs: +mpurKm.ms.toFixed(1), mpurKmOverMpur: +(mpurKm.ms / mpur.ms).toFixed(2), vgKmRealStepMs: +vgKmReal.ms.toFixed(1),
  vgKmRealEgoStepMs: +vgKmRealEgo.ms.toFixed(1), egoViewOverReference: +(vgKmRealEgo.ms / vgKmReal.ms).toFixed(2),
  hostOps: hostOps(),
  mpurOpsStepMs: +mpurOps.ms.toFixed(1), mpurKmOpsStepMs: +mpurKmOps.ms.toFixed(1), vgKmRealOpsStepMs: +vgKmRealOps.ms.toFixed(1),
  mpurHostSpeedup: +(mpurOps.ms / mpur.ms).toFixed(2), mpurKmHostSpeedup: +(mpurKmOps.ms / mpurKm.ms).toFixed(2), vgKmRealHostSpeedup: +(vgKmRealOps.ms / vgKmReal.ms).toFixed(2),
  ilStepMs: +il.ms.toFixed(2), ilBatch: il.batch,
  actMs: +median(actTimes).toFixed(2), actCars: cars, actMsPerCar: +(median(actTimes) / cars).toFixed(3),
  mpcMs: +median(mpcTimes).toFixed(1), mpcHorizon: horizon, mpcIters, mpcOverAct: +(median(mpcTimes) / median(actTimes)).toFixed(1),
  numTensorsFlat: [vg, mpur, il, mpurKm, vgKmReal, vgKmRealEgo, mpurOps, mpurKmOps, vgKmRealOps].every((r) => r.flat),
};
if (!json) {
  process.stdout.write(`policy-step (${preset}, ${backend.name}): vg ${result.vgStepMs} ms, mpur ${result.mpurStepMs} ms (x${result.mpurOverVg} for U with K = ${result.k}), il ${result.ilStepMs} ms, mpur-km ${result.mpurKmStepMs} ms (x${result.mpurKmOverMpur} of mpur), vg-km through the real future ${result.vgKmRealStepMs} ms (${result.vgKmRealEgoStepMs} ms with the ego view); host ops x${result.mpurHostSpeedup} / x${result.mpurKmHostSpeedup} / x${result.vgKmRealHostSpeedup} faster than the tfjs ops (mpur / mpur-km / vg-km-real); act ${result.actMs} ms for ${cars} cars, mpc (H ${horizon}, ${mpcIters} iterations) ${result.mpcMs} ms for the same cars\n`);
}
process.stdout.write(JSON.stringify(result) + '\n');
model.dispose();
