/**
 * Quick checks of the files a scenario names (dataset, policy folder, world model), so that a
 * command can refuse a scenario with a one-line error before it starts serving or evaluating.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../common/errors.js';
import { scenarioWhere } from './traffic.js';
import type { ResolvedScenario, ScenarioFile } from './validate.js';

export function scenarioPath(s: ResolvedScenario, p: string): string {
  return isAbsolute(p) ? p : resolve(s.baseDir, p);
}

export function checkScenarioPaths(file: ScenarioFile): void {
  for (const s of file.scenarios) {
    const need = (field: string, p: string) => {
      if (!existsSync(scenarioPath(s, p))) throw new UserError(`${scenarioWhere(s, field)}: ${scenarioPath(s, p)} does not exist`);
    };
    if (s.dataset.kind !== 'synth') need('.dataset.path', s.dataset.path);
    if (s.controller.kind === 'policy') need('.controller.path', s.controller.path);
    if (s.worldModel) need('.worldModel.path', s.worldModel.path);
  }
}
