/**
 * What the preload script exposes to the page as window.ppuuBridge: one function per viewer
 * call, each a single ipcRenderer.invoke on its channel, nothing else of Electron or Node.
 * Kept apart from preload.ts so that tests build it over a fake ipcRenderer.
 */
import { CALLS } from '../protocol/api.js';
import type { PpuuBridge } from '../web/transport.js';

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
}

export function makeBridge(ipc: IpcRendererLike): PpuuBridge {
  return {
    listScenarios: () => ipc.invoke(CALLS.listScenarios.channel) as ReturnType<PpuuBridge['listScenarios']>,
    initial: () => ipc.invoke(CALLS.initial.channel) as ReturnType<PpuuBridge['initial']>,
    loadScenario: (req) => ipc.invoke(CALLS.loadScenario.channel, req) as ReturnType<PpuuBridge['loadScenario']>,
    frames: (id, from, count) => ipc.invoke(CALLS.frames.channel, id, from, count) as ReturnType<PpuuBridge['frames']>,
    imagine: (id, index) => ipc.invoke(CALLS.imagine.channel, id, index) as ReturnType<PpuuBridge['imagine']>,
    outcome: (id, controller) => ipc.invoke(CALLS.outcome.channel, id, controller) as ReturnType<PpuuBridge['outcome']>,
  };
}
