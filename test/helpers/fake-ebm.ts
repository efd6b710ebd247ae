/**
 * EBM model folders with known encoder weights, for the encoder-init tests of the forward model
 * and the policy: a conv-sparse-shaped folder (saveEbmModel) from seeded random kernels, and a
 * check that a first-conv kernel is that kernel tiled over the context frames.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Rng } from '../../common/rng.js';
import { saveEbmModel } from '../../worldmodel/ebm/store.js';

export interface FakeEbm {
  dir: string;
  /** [4, 4, C, F] row-major, and [F]. */
  kernel: Float32Array;
  bias: Float32Array | null;
  channels: number;
  filters: number;
}

/** Writes a conv-sparse-shaped model folder `work/name` with seeded random encoder weights. */
export async function fakeEbm(work: string, name: string, channels: number, filters: number, seed: number, withBias = true): Promise<FakeEbm> {
  const rng = new Rng(seed);
  const n = 16 * channels * filters;
  const rand = (k: number) => Float32Array.from({ length: k }, () => rng.normal(0, 0.3));
  const kernel = rand(n);
  const bias = withBias ? rand(filters) : null;
  const k4 = [4, 4, channels, filters];
  const dir = join(work, name);
  await saveEbmModel(dir, {
    kind: 'conv-sparse',
    hyper: { filters },
    arrays: { D: { data: rand(n), shape: k4 }, E: { data: kernel, shape: k4 }, ...(bias ? { encoder_bias: { data: bias, shape: [filters] } } : {}) },
    atoms: { array: 'D', patch: [4, 4, channels] },
    encoder: { kernel: 'E', bias: bias ? 'encoder_bias' : null, stride: 2, padding: 1 },
    training: {},
  });
  return { dir, kernel, bias, channels, filters };
}

/** Checks `w` ([4, 4, frames * C, F]) against the EBM kernel spread over frames as `mode` says. */
export function assertTiled(w: Float32Array, e: FakeEbm, frames: number, mode: 'mean' | 'last' | 'repeat'): void {
  const { channels: C, filters: F } = e;
  assert.equal(w.length, 16 * frames * C * F);
  for (let p = 0; p < 16; p++) {
    for (let f = 0; f < frames; f++) {
      for (let c = 0; c < C; c++) {
        for (let o = 0; o < F; o++) {
          const k = e.kernel[(p * C + c) * F + o]!;
          const want = mode === 'mean' ? k / frames : mode === 'repeat' ? k : f === frames - 1 ? k : 0;
          const got = w[(p * frames * C + f * C + c) * F + o]!;
          assert.ok(Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)), `tap ${p} frame ${f} channel ${c} filter ${o} (${mode}): ${got} vs ${want}`);
        }
      }
    }
  }
}
