/**
 * Registers trained policy folders with the simulator's controller registry, so that
 * `ppuu eval --policy DIR` and scenario controllers `{"kind": "policy", "path": DIR}` drive with
 * them. DIR may be the policy folder itself, a `ppuu train policy` output folder or its
 * checkpoint/ folder. Importing this module has that effect only; the tfjs backend is chosen on
 * the first load (worldmodel/backend.ts, honouring TFJS_BACKEND).
 */
import { registerDirectoryLoader } from '../sim/controllers/registry.js';
import { currentBackend } from '../worldmodel/backend.js';
import { initFmBackend } from '../worldmodel/fm/setup.js';
import { findPolicyDir, loadPolicy } from './checkpoint.js';
import { policyController } from './controller.js';

registerDirectoryLoader({
  name: 'ppuu-policy',
  canLoad: (dir) => findPolicyDir(dir) !== null,
  async load(dir) {
    if (!currentBackend()) await initFmBackend();
    const p = await loadPolicy(dir);
    return policyController(p, `policy:${p.hyper.train.method}:${dir}`);
  },
});
