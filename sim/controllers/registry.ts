/**
 * Controller resolution by name: a registry of factories keyed by name (the built-ins are
 * registered here), plus directory loaders, so that `--policy DIR` can name a folder holding a
 * trained policy once an area registers a loader that recognises it.
 */
import type { Controller } from './controller.js';
import { idmController, noActionController, replayController } from './builtin.js';

export interface ControllerOptions {
  /** Seed for stochastic controllers (one per evaluation seed). */
  seed: number;
  /** Settings of a parameterised controller (mpc: model, horizon, iters, warm-start policy), as given on the command line or in a scenario. */
  params?: Readonly<Record<string, string | number | undefined>>;
}

export type ControllerFactory = (opts: ControllerOptions) => Controller | Promise<Controller>;

export interface DirectoryLoader {
  name: string;
  /** True when `dir` holds something this loader can turn into a controller. */
  canLoad(dir: string): boolean | Promise<boolean>;
  load(dir: string, opts: ControllerOptions): Controller | Promise<Controller>;
}

const factories = new Map<string, ControllerFactory>();
const loaders: DirectoryLoader[] = [];

export function registerController(name: string, factory: ControllerFactory): void {
  factories.set(name, factory);
}

export function registerDirectoryLoader(loader: DirectoryLoader): void {
  if (!loaders.some((l) => l.name === loader.name)) loaders.push(loader);
}

export function controllerNames(): string[] {
  return [...factories.keys()];
}

/** Names of the registered directory loaders (what `--policy DIR` and `{"kind": "policy"}` can load). */
export function directoryLoaderNames(): string[] {
  return loaders.map((l) => l.name);
}

registerController('replay', () => replayController());
registerController('no-action', () => noActionController());
registerController('idm', () => idmController());

/**
 * Resolves a --policy value: a registered name, else a directory that a registered loader
 * accepts. `isDir` tells whether the value names an existing directory (kept out of this
 * module so it stays free of Node built-ins). Returns null when nothing matches.
 */
export async function resolveController(spec: string, opts: ControllerOptions, isDir: (p: string) => boolean): Promise<Controller | null> {
  const f = factories.get(spec);
  if (f) return f(opts);
  if (isDir(spec)) {
    for (const l of loaders) if (await l.canLoad(spec)) return l.load(spec, opts);
  }
  return null;
}
