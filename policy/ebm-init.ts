/**
 * Initialising the policy network's first convolution from an energy-based encoder
 * (`ppuu train policy --encoder-init DIR [--encoder-tile mean|last|repeat]`).
 *
 * The policy's image encoder has the forward model's shape (network.ts): `enc.conv1` is a 4x4,
 * stride-2, padding-1 convolution of the ncond context frames stacked on channels, kernel
 * [4, 4, ncond * C, nfeature / 4]. It gets the EBM's one-frame kernel [4, 4, C, F] tiled over
 * the frames exactly as the forward model's `enc.conv1` does (worldmodel/fm/ebm-init.ts,
 * applyEncoderInitTo): 'mean' (default), 'last' or 'repeat'; the EBM's bias where it has one
 * (times ncond for 'repeat'), else the seeded default bias stays. Every other weight keeps its
 * seeded value, so a policy with the init differs from one without it (same seed) only there.
 *
 * Requirements (checked, one-line errors): C equals the dataset's channels and F equals
 * nfeature / 4 (4 for tiny, 16 for small, 64 for paper).
 */
import { applyEncoderInitTo, type EncoderInitRecord, type TileMode } from '../worldmodel/fm/ebm-init.js';
import type { PolicyNetwork } from './network.js';

/** Sets the policy's first convolution from the EBM encoder in `dir`; returns what was set. */
export async function applyPolicyEncoderInit(policy: PolicyNetwork, dir: string, tile: TileMode = 'mean'): Promise<EncoderInitRecord> {
  const { cfg } = policy;
  return applyEncoderInitTo(
    { owner: 'the policy', weights: policy.weights, channels: cfg.channels, nfeature: cfg.nfeature, convs: [{ prefix: 'enc.conv1', frames: cfg.ncond }] },
    dir,
    tile,
  );
}
