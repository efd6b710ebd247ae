/**
 * The controller a scenario asks for, built through sim/'s controller registry: the built-in
 * `replay`, `no-action` and `idm` (with the scenario's IDM overrides), a trained `policy`
 * folder that a registered directory loader (policy/) recognises, or `mpc` through a world model.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../common/errors.js';
import { DEFAULT_IDM, idmController, noActionController, replayController } from '../sim/controllers/builtin.js';
import type { Controller } from '../sim/controllers/controller.js';
import { resolveController } from '../sim/controllers/registry.js';
import { scenarioWhere } from './traffic.js';
import type { ResolvedScenario } from './validate.js';

export async function controllerFor(s: ResolvedScenario, seed: number): Promise<Controller> {
  const c = s.controller;
  switch (c.kind) {
    case 'replay':
      return replayController();
    case 'no-action':
      return noActionController();
    case 'idm':
      return idmController({ ...DEFAULT_IDM, ...(c.params ?? {}) });
    case 'policy': {
      const dir = isAbsolute(c.path) ? c.path : resolve(s.baseDir, c.path);
      const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
      if (!isDir(dir)) throw new UserError(`${scenarioWhere(s, '.controller.path')}: policy folder ${dir} does not exist`);
      const ctl = await resolveController(dir, { seed }, isDir);
      if (!ctl) throw new UserError(`${scenarioWhere(s, '.controller.path')}: ${dir} is not a policy folder that this build can load`);
      return ctl;
    }
    case 'mpc': {
      const at = (p: string) => (isAbsolute(p) ? p : resolve(s.baseDir, p));
      if (!existsSync(at(c.model))) throw new UserError(`${scenarioWhere(s, '.controller.model')}: world-model folder ${at(c.model)} does not exist`);
      if (c.policy !== undefined && !existsSync(at(c.policy))) throw new UserError(`${scenarioWhere(s, '.controller.policy')}: policy folder ${at(c.policy)} does not exist`);
      const params = { model: at(c.model), horizon: c.horizon, iters: c.iters, policy: c.policy === undefined ? undefined : at(c.policy) };
      const ctl = await resolveController('mpc', { seed, params }, () => false);
      if (!ctl) throw new UserError(`${scenarioWhere(s, '.controller.kind')}: this build has no mpc controller registered`);
      return ctl;
    }
  }
}
