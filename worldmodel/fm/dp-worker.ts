/**
 * A data-parallel compute thread (see data-parallel.ts): holds its own copy of the model and of
 * Adam on its own tfjs backend; per step it computes the gradients of its share of the batch into
 * its slot of the shared gradient buffer, then applies the averaged gradients that the main
 * thread wrote to the shared average slot. Every thread applies the same update to the same
 * weights, so the copies stay identical.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initFmBackend } from './setup.js';
import { ForwardModel } from './model.js';
import { Adam } from './adam.js';
import { FmNoise } from './noise.js';
import { disposeGradients, lossAndGrads } from './train-step.js';
import { variablesFrom } from './params.js';
import { saveFm } from './checkpoint.js';
import type { DpInit, DpRequest, DpReply } from './data-parallel.js';

const init = workerData.init as DpInit;
const port = parentPort!;

function tensorsFrom(flat: Float32Array, prefix = ''): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const l of init.layout) out[prefix + l.name] = tf.tensor(flat.subarray(l.offset, l.offset + l.size), l.shape, 'float32');
  return out;
}

async function main(): Promise<void> {
  await initFmBackend(init.backend, { training: true });
  const slot = new Float32Array(init.shared, init.shard * init.total * 4, init.total);
  const avg = new Float32Array(init.shared, init.workers * init.total * 4, init.total);
  const w0 = tensorsFrom(init.weights);
  const model = new ForwardModel(init.config, init.kind, variablesFrom(w0));
  for (const t of Object.values(w0)) t.dispose();
  const adam = new Adam(model.weights, { learningRate: init.config.learningRate });
  if (init.adam) {
    const m = tensorsFrom(init.adam.m, 'm.');
    const v = tensorsFrom(init.adam.v, 'v.');
    adam.loadState({ ...m, ...v }, init.adam.t);
    for (const t of [...Object.values(m), ...Object.values(v)]) t.dispose();
  }
  const reply = (r: DpReply) => port.postMessage(r);
  port.on('message', async (msg: DpRequest) => {
    try {
      if (msg.type === 'grads') {
        const g = lossAndGrads(model, msg.batch, FmNoise.forStep(init.seed, msg.step, true, undefined, init.shard));
        const present: string[] = [];
        for (const l of init.layout) {
          const t = g.grads[l.name];
          if (t) {
            slot.set(t.dataSync() as Float32Array, l.offset);
            present.push(l.name);
          } else slot.fill(0, l.offset, l.offset + l.size);
        }
        const parts = Array.from(g.parts.dataSync());
        disposeGradients(g);
        reply({ type: 'grads', step: msg.step, shard: init.shard, rows: msg.batch.batch, parts, present, zDropped: g.zDropped, zDraws: g.zDraws });
      } else if (msg.type === 'apply') {
        const names = new Set(msg.names);
        const grads: Record<string, tf.Tensor> = {};
        for (const l of init.layout) if (names.has(l.name)) grads[l.name] = tf.tensor(avg.subarray(l.offset, l.offset + l.size), l.shape, 'float32');
        adam.apply(grads, msg.scale);
        for (const t of Object.values(grads)) t.dispose();
        reply({ type: 'applied' });
      } else if (msg.type === 'save') {
        await saveFm(msg.dir, model, msg.hparams, { adam, state: msg.state });
        reply({ type: 'saved' });
      } else if (msg.type === 'close') {
        adam.dispose();
        model.dispose();
        reply({ type: 'closed' });
      }
    } catch (e) {
      reply({ type: 'error', message: (e as Error).message, user: (e as Error).name === 'UserError' });
    }
  });
  reply({ type: 'ready', backend: tf.getBackend() });
}

main().catch((e) => reportFatal(e));
function reportFatal(e: unknown): void {
  port.postMessage({ type: 'error', message: (e as Error).message ?? String(e), user: false });
}
