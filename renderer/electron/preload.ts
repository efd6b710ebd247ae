/**
 * Electron preload (bundled to CommonJS; runs sandboxed, where only require('electron') works):
 * exposes the viewer bridge to the isolated page and nothing more.
 */
import { makeBridge } from './bridge.js';
import type { IpcRendererLike } from './bridge.js';

const electron = require('electron') as {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: IpcRendererLike;
};
electron.contextBridge.exposeInMainWorld('ppuuBridge', makeBridge(electron.ipcRenderer));
