/**
 * The one place that fills the simulator's controller registry (sim/controllers/registry.ts)
 * with what the upper layers provide: trained policy folders (`ppuu eval --policy DIR`, scenario
 * controllers `{"kind": "policy", "path": DIR}`, the app's controller menu). Every process that
 * drives cars calls registerControllers() once at start-up: the CLI (cli/main.ts, so `ppuu eval`
 * and `ppuu app` see the same controllers), the Electron main process and the benchmarks.
 * Heavy modules (tfjs, the checkpoint code) are imported when a folder is first loaded, so
 * registering costs nothing; DIR may be the policy folder, a `ppuu train policy` output folder
 * or its checkpoint/ folder.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { registerDirectoryLoader } from '../sim/controllers/registry.js';

/** The folders findPolicyDir (checkpoint.ts) looks in, checked without loading tfjs. */
function mayHoldPolicy(dir: string): boolean {
  return [dir, join(dir, 'policy'), join(dir, 'checkpoint', 'policy')].some((d) => existsSync(join(d, 'model.json')));
}

let registered = false;

export function registerControllers(): void {
  if (registered) return;
  registered = true;
  registerDirectoryLoader({
    name: 'ppuu-policy',
    async canLoad(dir) {
      if (!mayHoldPolicy(dir)) return false;
      const { findPolicyDir } = await import('./checkpoint.js');
      return findPolicyDir(dir) !== null;
    },
    async load(dir) {
      const { currentBackend } = await import('../worldmodel/backend.js');
      const { initFmBackend } = await import('../worldmodel/fm/setup.js');
      if (!currentBackend()) await initFmBackend();
      const { loadPolicy } = await import('./checkpoint.js');
      const { policyController } = await import('./controller.js');
      const p = await loadPolicy(dir);
      return policyController(p, `policy:${p.hyper.train.method}:${dir}`);
    },
  });
}
