/**
 * A tiny "pipeline run" folder for the viewer's browser tests, built in a few seconds: mini
 * traffic as a track store, an untrained tiny policy (its actions are far from the logged
 * driver's, so the bot leaves its ghost), an untrained tiny VAE world model, and a suite like
 * the pipeline's app.json (the policy first, then IDM, no-action and a quick MPC on the same episodes).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTrackStore } from '../../../data/track-store.js';
import { savePolicy } from '../../../policy/checkpoint.js';
import { policyNetConfig, policyTrainConfig } from '../../../policy/config.js';
import { PolicyNetwork } from '../../../policy/network.js';
import { saveFm } from '../../../worldmodel/fm/checkpoint.js';
import { fmConfig } from '../../../worldmodel/fm/config.js';
import { ForwardModel } from '../../../worldmodel/fm/model.js';
import { initFmBackend } from '../../../worldmodel/fm/setup.js';
import { miniTraffic } from '../../scenarios/helpers/mini-traffic.js';

export interface TinyRun {
  dir: string;
  /** The suite file (app.json). */
  suite: string;
}

export async function writeTinyRun(opts: { horizon?: number; samples?: number } = {}): Promise<TinyRun> {
  await initFmBackend(process.env.TFJS_BACKEND ?? 'wasm', { training: true });
  const dir = mkdtempSync(join(tmpdir(), 'ppuu-tiny-run-'));
  await writeTrackStore(join(dir, 'tracks'), miniTraffic({ durationS: 30 }));
  const stats = { stateMean: [900, 100, 60, 0], stateStd: [400, 40, 20, 1], actionMean: [0, 0], actionStd: [10, 0.002] };
  const net = policyNetConfig('tiny', 4, 3);
  const policy = PolicyNetwork.create(net, 7);
  await savePolicy(join(dir, 'policy'), policy, {
    kind: 'ppuu-policy', version: 1, preset: 'tiny', net, train: policyTrainConfig('tiny', 'vg-km', { future: 'real' }), forwardModel: null,
    uStats: null, dataset: 'test', seed: 7, steps: 0, paramCount: policy.paramCount(),
  }, stats);
  policy.dispose();
  const cfg = fmConfig('tiny');
  const model = ForwardModel.create(cfg, 'vae', 5);
  await saveFm(join(dir, 'fm'), model, {
    format: 'ppuu-fm', version: 1, kind: 'vae', preset: 'tiny', config: cfg, stats, dataset: null, steps: 0, paramCount: model.paramCount(), writtenBy: 'test',
  });
  model.dispose();
  const base = {
    map: 'i80',
    dataset: { kind: 'tracks', path: 'tracks' },
    ego: { kind: 'vehicles', ids: [3, 8] },
    durationFrames: 80,
    worldModel: { path: 'fm', horizon: opts.horizon ?? 6, samples: opts.samples ?? 2 },
    display: { startPaused: true },
  };
  const suite = join(dir, 'app.json');
  writeFileSync(
    suite,
    JSON.stringify({
      format: 'ppuu-suite',
      name: 'tiny run',
      scenarios: [
        { name: 'policy (best)', ...base, controller: { kind: 'policy', path: 'policy' } },
        { name: 'idm', ...base, controller: { kind: 'idm' } },
        { name: 'no-action', ...base, controller: { kind: 'no-action' } },
        // MPC with a short plan and one iteration per step, to keep the tests quick on a CPU backend.
        { name: 'mpc', ...base, controller: { kind: 'mpc', model: 'fm', horizon: 2, iters: 1 } },
      ],
    }),
  );
  return { dir, suite };
}
