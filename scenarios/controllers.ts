/**
 * The controller a scenario asks for, built through sim/'s controller registry: the built-in
 * `replay`, `no-action` and `idm` (with the scenario's IDM overrides), or a trained `policy`
 * folder that a registered directory loader (policy/) recognises.
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
  }
}
