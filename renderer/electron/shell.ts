/**
 * The desktop app's main-process logic as plain functions over the few Electron objects it
 * needs (app, BrowserWindow, ipcMain), so that tests drive it with fakes. The window runs the
 * same page as the browser viewer, loaded from files, with context isolation, the sandbox and no
 * Node integration; the page reaches the ViewerService only through the IPC channels below
 * (listed in renderer/protocol/api.ts), and only from our own page.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { CALLS } from '../protocol/api.js';
import type { Envelope } from '../protocol/api.js';
import type { LoadRequest } from '../protocol/types.js';
import type { ViewerService } from '../server/viewer-service.js';

export interface WebPreferencesLike {
  preload: string;
  contextIsolation: boolean;
  sandbox: boolean;
  nodeIntegration: boolean;
  webSecurity: boolean;
  spellcheck: boolean;
}

export interface BrowserWindowOptionsLike {
  width: number;
  height: number;
  title: string;
  backgroundColor: string;
  show?: boolean;
  webPreferences: WebPreferencesLike;
}

export interface IpcEventLike {
  senderFrame?: { url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
}

export interface WebContentsLike {
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void;
  on(event: 'will-navigate', listener: (event: { preventDefault(): void }, url: string) => void): void;
}

export interface BrowserWindowLike {
  loadFile(filePath: string, options?: { query?: Record<string, string> }): Promise<void>;
  webContents: WebContentsLike;
}

export type BrowserWindowCtorLike = new (options: BrowserWindowOptionsLike) => BrowserWindowLike;

export interface AppLike {
  whenReady(): Promise<unknown>;
  on(event: 'window-all-closed' | 'activate', listener: () => void): void;
  quit(): void;
}

/** Window options: isolated, sandboxed, no Node in the page; the preload is the only bridge. */
export function windowOptions(preloadPath: string): BrowserWindowOptionsLike {
  return {
    width: 1400,
    height: 800,
    title: 'ppuu',
    backgroundColor: '#111111',
    webPreferences: { preload: preloadPath, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, spellcheck: false },
  };
}

const reject = (error: string): Envelope<never> => ({ ok: false, error });

/** Checks the page's load request: only known fields of the right types pass. */
export function checkLoadRequest(v: unknown): LoadRequest | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const r = v as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!['file', 'text', 'name', 'scenario', 'episode', 'controller'].includes(k)) return null;
  const str = (x: unknown) => x === undefined || typeof x === 'string';
  const int = (x: unknown) => x === undefined || (Number.isInteger(x) && (x as number) >= 0);
  if (!str(r.file) || !str(r.text) || !str(r.name) || !int(r.scenario) || !int(r.episode) || !int(r.controller)) return null;
  return r as LoadRequest;
}

/**
 * Registers the viewer's IPC handlers; calls from any frame other than our page's file are
 * refused. Returns the channel names.
 */
export function registerIpc(ipcMain: IpcMainLike, service: ViewerService, pageUrl: string): string[] {
  const trusted = (e: IpcEventLike) => (e.senderFrame?.url ?? '').split(/[?#]/)[0] === pageUrl;
  const guard =
    (fn: (...args: unknown[]) => unknown) =>
    (e: IpcEventLike, ...args: unknown[]) =>
      trusted(e) ? fn(...args) : reject('refused: IPC call from an unknown page');
  ipcMain.handle(CALLS.listScenarios.channel, guard(() => service.listScenarios()));
  ipcMain.handle(CALLS.initial.channel, guard(() => service.initial()));
  ipcMain.handle(
    CALLS.loadScenario.channel,
    guard((req) => {
      const r = checkLoadRequest(req);
      return r ? service.loadScenario(r) : reject('load request: expected {file | text, name?, scenario?, episode?, controller?}');
    }),
  );
  ipcMain.handle(
    CALLS.frames.channel,
    guard((id, from, count) =>
      typeof id === 'string' && Number.isInteger(from) && Number.isInteger(count)
        ? service.frames(id, from as number, count as number)
        : reject('frames: expected (sessionId: string, from: integer, count: integer)'),
    ),
  );
  ipcMain.handle(
    CALLS.imagine.channel,
    guard((id, index) =>
      typeof id === 'string' && Number.isInteger(index) ? service.imagine(id, index as number) : reject('imagine: expected (sessionId: string, index: integer)'),
    ),
  );
  ipcMain.handle(
    CALLS.outcome.channel,
    guard((id, controller) =>
      typeof id === 'string' && Number.isInteger(controller) ? service.outcome(id, controller as number) : reject('outcome: expected (sessionId: string, controller: integer)'),
    ),
  );
  return Object.values(CALLS).map((c) => c.channel);
}

/** Opens the viewer window on the page in `webDir`; it cannot open other windows or navigate away. */
export async function openViewerWindow(
  BrowserWindow: BrowserWindowCtorLike,
  webDir: string,
  preloadPath: string,
  query: Record<string, string> = {},
): Promise<BrowserWindowLike> {
  const win = new BrowserWindow(windowOptions(preloadPath));
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  await win.loadFile(join(webDir, 'index.html'), { query });
  return win;
}

export interface ShellOptions {
  app: AppLike;
  BrowserWindow: BrowserWindowCtorLike;
  ipcMain: IpcMainLike;
  service: ViewerService;
  /** Folder with index.html, viewer.js, viewer.css (bundle.ts writeWebAssets). */
  webDir: string;
  preloadPath: string;
  query?: Record<string, string>;
}

/** The whole main process: IPC first, then the window once Electron is ready; quits when it closes. */
export async function runShell(o: ShellOptions): Promise<BrowserWindowLike> {
  const pageUrl = pathToFileURL(join(o.webDir, 'index.html')).href;
  registerIpc(o.ipcMain, o.service, pageUrl);
  o.app.on('window-all-closed', () => o.app.quit());
  await o.app.whenReady();
  return openViewerWindow(o.BrowserWindow, o.webDir, o.preloadPath, o.query);
}
