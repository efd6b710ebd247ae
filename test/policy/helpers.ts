/** Shared set-up of the policy tests: the backend, a tiny procedural dataset, tiny forward models saved to disk. */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { initFmBackend } from '../../worldmodel/fm/setup.js';
import { fmConfig, type FmKind } from '../../worldmodel/fm/config.js';
import { ForwardModel } from '../../worldmodel/fm/model.js';
import { saveFm } from '../../worldmodel/fm/checkpoint.js';
import { openDataset } from '../../data/dataset.js';
import { writeTinyDataset } from '../helpers/tiny-dataset.js';
import { tempDir as removedTempDir } from '../helpers/temp.js';

export async function setup(): Promise<void> {
  await initFmBackend(undefined, { training: true });
}

let tiny: string | null = null;
/** A 10-episode, 40-frame procedural dataset (one per test process). */
export function tinyDataset(): string {
  tiny ??= writeTinyDataset({ n: 10, length: 40, seed: 5 });
  return tiny;
}

let predictable: string | null = null;
/**
 * Procedural episodes whose logged acceleration is a function of the current ego speed
 * (a = 0.2 * (75 - v) px/s^2): an expert that 1-step imitation can learn from the states.
 */
export function predictableDataset(): string {
  if (predictable) return predictable;
  const dir = writeTinyDataset({
    n: 10,
    length: 30,
    ids: (i) => `ep${i}`,
    episodeSeed: (i) => 500 + i,
    // The expert's acceleration is a fixed function of its speed, so IL has something to learn.
    edit: (ep) => {
      for (let t = 0; t < 30; t++) ep.actions[t * 2] = 0.2 * (75 - ep.states[t * 28 + 2]!);
    },
  });
  predictable = dir;
  return dir;
}

const models = new Map<string, string>();
/** A freshly initialised tiny forward model of `kind`, saved as a checkpoint folder (one per kind and test process). */
export async function tinyModel(kind: FmKind, seed = 3): Promise<string> {
  const key = `${kind}-${seed}`;
  const have = models.get(key);
  if (have) return have;
  const ds = openDataset(tinyDataset());
  const cfg = fmConfig('tiny', { channels: ds.channels });
  const m = ForwardModel.create(cfg, kind, seed);
  const dir = join(removedTempDir('ppuu-policy-fm-'), 'fm');
  await saveFm(dir, m, {
    format: 'ppuu-fm', version: 1, kind, preset: 'tiny', config: cfg, stats: ds.manifest.stats, dataset: tinyDataset(),
    steps: 0, paramCount: m.paramCount(), writtenBy: 'test',
  });
  m.dispose();
  models.set(key, dir);
  return dir;
}

export function tempDir(prefix = 'ppuu-policy-'): string {
  return removedTempDir(prefix);
}

export function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);
}
