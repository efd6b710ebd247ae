/**
 * The one place that fills the simulator's controller registry (sim/controllers/registry.ts)
 * with what the upper layers provide: trained policy folders (`ppuu eval --policy DIR`, scenario
 * controllers `{"kind": "policy", "path": DIR}`, the app's controller menu) and `mpc` (planning
 * through a world model: `ppuu eval --policy mpc --model FM_DIR`). Every process that
 * drives cars calls registerControllers() once at start-up: the CLI (cli/main.ts, so `ppuu eval`
 * and `ppuu app` see the same controllers), the Electron main process and the benchmarks.
 * Heavy modules (tfjs, the checkpoint code) are imported when a folder is first loaded, so
 * registering costs nothing; DIR may be the policy folder, a `ppuu train policy` output folder
 * or its checkpoint/ folder.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../common/errors.js';
import { registerController, registerDirectoryLoader, type ControllerOptions } from '../sim/controllers/registry.js';

/** The folders findPolicyDir (checkpoint.ts) looks in, checked without loading tfjs. */
function mayHoldPolicy(dir: string): boolean {
  return [dir, join(dir, 'policy'), join(dir, 'checkpoint', 'policy')].some((d) => existsSync(join(d, 'model.json')));
}

let registered = false;

async function ensureBackend(): Promise<void> {
  const { currentBackend } = await import('../worldmodel/backend.js');
  const { initFmBackend } = await import('../worldmodel/fm/setup.js');
  if (!currentBackend()) await initFmBackend();
}

function intParam(o: ControllerOptions, name: string, dflt: number): number {
  const v = o.params?.[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`field ${name}: mpc needs a positive integer, got ${String(v)}`);
  return n;
}

/** MPC through a world model (mpc.ts): params model (required), horizon, iters, lr, policy (warm start). */
async function mpcFactory(o: ControllerOptions) {
  const model = o.params?.model;
  if (typeof model !== 'string' || model === '') throw new UserError('field model: mpc plans through a world model: give its checkpoint folder (--model DIR)');
  await ensureBackend();
  const { loadFm } = await import('../worldmodel/fm/checkpoint.js');
  const { mpcController, MPC_DEFAULTS } = await import('./mpc.js');
  const fm = loadFm(model);
  fm.model.setTrainable(false);
  let policy = null;
  const warm = o.params?.policy;
  if (typeof warm === 'string' && warm !== '') {
    const { loadPolicy } = await import('./checkpoint.js');
    policy = await loadPolicy(warm);
  }
  const horizon = intParam(o, 'horizon', MPC_DEFAULTS.horizon);
  const iters = intParam(o, 'iters', MPC_DEFAULTS.iters);
  const lr = o.params?.lr === undefined ? MPC_DEFAULTS.learningRate : Number(o.params.lr);
  if (!(lr > 0)) throw new UserError(`field lr: mpc needs a positive learning rate, got ${String(o.params?.lr)}`);
  const weights = { gamma: 0.99, lambdaL: 1, lambdaO: 0, lambdaF: 1 };
  return mpcController(fm.model, fm.hparams.stats, { horizon, iters, learningRate: lr, weights, policy, seed: o.seed }, `mpc:H${horizon}:it${iters}:${model}`);
}

export function registerControllers(): void {
  if (registered) return;
  registered = true;
  registerController('mpc', mpcFactory);
  registerDirectoryLoader({
    name: 'ppuu-policy',
    async canLoad(dir) {
      if (!mayHoldPolicy(dir)) return false;
      const { findPolicyDir } = await import('./checkpoint.js');
      return findPolicyDir(dir) !== null;
    },
    async load(dir) {
      await ensureBackend();
      const { loadPolicy } = await import('./checkpoint.js');
      const { policyController } = await import('./controller.js');
      const p = await loadPolicy(dir);
      return policyController(p, `policy:${p.hyper.train.method}:${dir}`);
    },
  });
}
