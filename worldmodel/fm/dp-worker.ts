/**
 * A data-parallel compute thread (see data-parallel.ts): its own tfjs backend, copy of the model
 * and of Adam. Per step: gradients of its share into its shared slot, barrier, average of its
 * range of parameters over all slots, barrier, then the same clipped Adam update as every other
 * worker, from the shared average.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initFmBackend } from './setup.js';
import { ForwardModel } from './model.js';
import { Adam } from './adam.js';
import { FmNoise } from './noise.js';
import { disposeGradients, lossAndGrads, type StepStats } from './train-step.js';
import { variablesFrom } from './params.js';
import { saveFm } from './checkpoint.js';
import { liveView } from './tensor-memory.js';
import { INFO, INFO_STRIDE, barrier, type DpInit, type DpReply, type DpRequest } from './data-parallel.js';
import type { WindowBatch } from './windows.js';

const init = workerData.init as DpInit;
const port = parentPort!;
const W = init.workers;
const P = init.total;
const me = init.shard;
const slots = Array.from({ length: W }, (_, w) => new Float32Array(init.shared.grads, w * P * 4, P));
const avg = new Float32Array(init.shared.grads, W * P * 4, P);
const ctl = new Int32Array(init.shared.barrier);
const info = new Float64Array(init.shared.info);
const present = new Int32Array(init.shared.present);
const nT = init.layout.length;

function tensorsFrom(flat: Float32Array, prefix = ''): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const l of init.layout) out[prefix + l.name] = tf.tensor(flat.subarray(l.offset, l.offset + l.size), l.shape, 'float32');
  return out;
}

function stepOn(model: ForwardModel, adam: Adam, batch: WindowBatch, step: number): StepStats {
  // 1. Gradients of this share into this worker's slot.
  const g = lossAndGrads(model, batch, FmNoise.forStep(init.seed, step, true, undefined, me));
  const slot = slots[me]!;
  init.layout.forEach((l, i) => {
    const t = g.grads[l.name];
    present[me * nT + i] = t ? 1 : 0;
    if (t) slot.set(liveView(t) ?? (t.dataSync() as Float32Array), l.offset);
    else slot.fill(0, l.offset, l.offset + l.size);
  });
  const parts = g.parts.dataSync();
  const base = me * INFO_STRIDE;
  info[base + INFO.rows] = batch.batch;
  info[base + INFO.total] = parts[0]!;
  info[base + INFO.image] = parts[1]!;
  info[base + INFO.state] = parts[2]!;
  info[base + INFO.kl] = parts[3]!;
  info[base + INFO.zDropped] = g.zDropped;
  info[base + INFO.zDraws] = g.zDraws;
  disposeGradients(g);
  barrier(ctl, W);
  // 2. Weighted average of this worker's range of parameters, and its sum of squares.
  let rows = 0;
  for (let w = 0; w < W; w++) rows += info[w * INFO_STRIDE + INFO.rows]!;
  const weight = slots.map((_, w) => info[w * INFO_STRIDE + INFO.rows]! / rows);
  const lo = Math.floor((me * P) / W);
  const hi = Math.floor(((me + 1) * P) / W);
  let sq = 0;
  if (W === 2) {
    const [a, b] = slots as [Float32Array, Float32Array];
    const [wa, wb] = weight as [number, number];
    for (let i = lo; i < hi; i++) {
      const v = wa * a[i]! + wb * b[i]!;
      avg[i] = v;
      sq += v * v;
    }
  } else {
    for (let i = lo; i < hi; i++) {
      let v = 0;
      for (let w = 0; w < W; w++) v += weight[w]! * slots[w]![i]!;
      avg[i] = v;
      sq += v * v;
    }
  }
  info[base + INFO.normSq] = sq;
  barrier(ctl, W);
  // 3. The same decision and update in every worker.
  let normSq = 0;
  const loss = [0, 0, 0, 0];
  for (let w = 0; w < W; w++) {
    const b = w * INFO_STRIDE;
    normSq += info[b + INFO.normSq]!;
    loss[0] += weight[w]! * info[b + INFO.total]!;
    loss[1] += weight[w]! * info[b + INFO.image]!;
    loss[2] += weight[w]! * info[b + INFO.state]!;
    loss[3] += weight[w]! * info[b + INFO.kl]!;
  }
  const gradNorm = Math.sqrt(normSq);
  const skipped = !(Number.isFinite(loss[0]!) && Number.isFinite(gradNorm));
  if (!skipped) {
    const grads: Record<string, Float32Array> = {};
    init.layout.forEach((l, i) => {
      let any = false;
      for (let w = 0; w < W; w++) any ||= present[w * nT + i] === 1;
      if (any) grads[l.name] = avg.subarray(l.offset, l.offset + l.size);
    });
    const clip = init.config.gradClip;
    adam.apply(grads, gradNorm > clip ? clip / (gradNorm + 1e-6) : 1);
  }
  return {
    total: loss[0]!, image: loss[1]!, state: loss[2]!, kl: loss[3]!, gradNorm, skipped,
    zDropped: info[INFO.zDropped]!, zDraws: info[INFO.zDraws]!,
  };
}

async function main(): Promise<void> {
  await initFmBackend(init.backend, { training: true });
  const w0 = tensorsFrom(init.weights);
  const model = new ForwardModel(init.config, init.kind, variablesFrom(w0));
  for (const t of Object.values(w0)) t.dispose();
  const adam = new Adam(model.weights, { learningRate: init.config.learningRate });
  if (init.adam) {
    const state = { ...tensorsFrom(init.adam.m, 'm.'), ...tensorsFrom(init.adam.v, 'v.') };
    adam.loadState(state, init.adam.t);
    for (const t of Object.values(state)) t.dispose();
  }
  const reply = (r: DpReply) => port.postMessage(r);
  port.on('message', async (msg: DpRequest) => {
    try {
      if (msg.type === 'step') reply({ type: 'step', step: msg.step, stats: stepOn(model, adam, msg.batch, msg.step) });
      else if (msg.type === 'save') {
        await saveFm(msg.dir, model, msg.hparams, { adam, state: msg.state });
        reply({ type: 'saved' });
      }
    } catch (e) {
      reply({ type: 'error', message: (e as Error).message, user: (e as Error).name === 'UserError' });
    }
  });
  reply({ type: 'ready', backend: tf.getBackend() });
}

main().catch((e: unknown) => port.postMessage({ type: 'error', message: (e as Error).message ?? String(e), user: false } satisfies DpReply));
