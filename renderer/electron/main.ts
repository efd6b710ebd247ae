/**
 * Electron main process (loaded by entry.mjs through tsx): reads the launch settings that
 * `ppuu app` put in PPUU_APP_CONFIG, builds the same ViewerService the browser viewer uses, and
 * hands Electron's objects to the plain shell (shell.ts).
 */
import { createRequire } from 'node:module';
import { ViewerService } from '../server/viewer-service.js';
import { createScenarioSource } from '../server/scenario-source.js';
import { runShell } from './shell.js';
import { registerControllers } from '../../policy/register-controllers.js';
import type { AppLike, BrowserWindowCtorLike, IpcMainLike } from './shell.js';

/** What `ppuu app` passes to the Electron process. */
export interface AppConfig {
  rootDir: string;
  scenarioDirs: string[];
  scenario: string | null;
  webDir: string;
  preloadPath: string;
}

export const CONFIG_ENV = 'PPUU_APP_CONFIG';

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env[CONFIG_ENV] ?? 'null') as AppConfig | null;
  if (!cfg) throw new Error(`${CONFIG_ENV} is not set: start the app with \`ppuu app\``);
  registerControllers();
  const electron = createRequire(import.meta.url)('electron') as { app: AppLike; BrowserWindow: BrowserWindowCtorLike; ipcMain: IpcMainLike };
  const service = new ViewerService({ rootDir: cfg.rootDir, scenarioDirs: cfg.scenarioDirs, initialFile: cfg.scenario, createSource: createScenarioSource });
  await runShell({ app: electron.app, BrowserWindow: electron.BrowserWindow, ipcMain: electron.ipcMain, service, webDir: cfg.webDir, preloadPath: cfg.preloadPath });
}

main().catch((e: Error) => {
  process.stderr.write(`ppuu app: ${e.message}\n`);
  process.exit(1);
});
