import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runShell, windowOptions, checkLoadRequest } from '../../renderer/electron/shell.js';
import type { BrowserWindowOptionsLike, IpcEventLike } from '../../renderer/electron/shell.js';
import { makeBridge } from '../../renderer/electron/bridge.js';
import { electronBinary, prepareElectronFiles } from '../../renderer/electron/launch.js';
import { ViewerService } from '../../renderer/server/viewer-service.js';
import { CALLS } from '../../renderer/protocol/api.js';
import { decodeMessage } from '../../renderer/protocol/codec.js';
import type { FrameChunk } from '../../renderer/protocol/types.js';
import { patternSource } from './helpers/pattern-source.js';
import { tempDir } from '../helpers/temp.js';

/** Fakes of the Electron objects the shell uses, recording what it does with them. */
function fakes() {
  const log: string[] = [];
  const handlers = new Map<string, (e: IpcEventLike, ...a: unknown[]) => unknown>();
  const windows: FakeWindow[] = [];
  const appEvents = new Map<string, () => void>();
  let ready: () => void = () => {};
  class FakeWindow {
    loaded: { file: string; query?: Record<string, string> } | null = null;
    openHandler: ((d: { url: string }) => { action: string }) | null = null;
    navigate: ((e: { preventDefault(): void }, url: string) => void) | null = null;
    webContents = {
      setWindowOpenHandler: (h: (d: { url: string }) => { action: 'deny' | 'allow' }) => (this.openHandler = h),
      on: (_ev: 'will-navigate', l: (e: { preventDefault(): void }, url: string) => void) => (this.navigate = l),
    };
    constructor(readonly options: BrowserWindowOptionsLike) {
      windows.push(this);
      log.push('window');
    }
    async loadFile(file: string, opts?: { query?: Record<string, string> }) {
      this.loaded = { file, query: opts?.query };
    }
  }
  const app = {
    whenReady: () => new Promise<void>((r) => (ready = () => (log.push('ready'), r()))),
    on: (ev: string, l: () => void) => appEvents.set(ev, l),
    quit: () => log.push('quit'),
  };
  const ipcMain = { handle: (ch: string, l: (e: IpcEventLike, ...a: unknown[]) => unknown) => (handlers.set(ch, l), log.push(`ipc ${ch}`)) };
  return { log, handlers, windows, appEvents, app, ipcMain, FakeWindow, ready: () => ready() };
}

const service = new ViewerService({ scenarioDirs: ['scenarios'], initialFile: 'scenarios/demo.json', createSource: async () => patternSource({ cars: 5, frames: 50 }) });

test('window options: context isolation, sandbox, no Node in the page, the preload as the only bridge', () => {
  const o = windowOptions('/x/preload.cjs');
  assert.deepEqual(
    { ...o.webPreferences },
    { preload: '/x/preload.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, spellcheck: false },
  );
});

test('shell: IPC before the window, window after ready, no new windows or navigation, quits when closed', async () => {
  const f = fakes();
  const webDir = '/app/web';
  const done = runShell({ app: f.app, BrowserWindow: f.FakeWindow, ipcMain: f.ipcMain, service, webDir, preloadPath: '/app/preload.cjs', query: { scenario: 'a.json' } });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual([...f.handlers.keys()].sort(), Object.values(CALLS).map((c) => c.channel).sort());
  assert.equal(f.windows.length, 0, 'no window before app ready');
  f.ready();
  const win = (await done) as unknown as InstanceType<typeof f.FakeWindow>;
  assert.deepEqual(f.log.slice(-2), ['ready', 'window']);
  assert.deepEqual(win.loaded, { file: join(webDir, 'index.html'), query: { scenario: 'a.json' } });
  assert.equal(win.options.webPreferences.sandbox, true);
  assert.deepEqual(win.openHandler!({ url: 'https://example.com' }), { action: 'deny' });
  let prevented = false;
  win.navigate!({ preventDefault: () => (prevented = true) }, 'https://example.com');
  assert.ok(prevented);
  f.appEvents.get('window-all-closed')!();
  assert.equal(f.log.at(-1), 'quit');
});

test('shell IPC: answers our page, refuses other pages and malformed arguments', async () => {
  const f = fakes();
  const webDir = '/app/web';
  const done = runShell({ app: f.app, BrowserWindow: f.FakeWindow, ipcMain: f.ipcMain, service, webDir, preloadPath: '/p.cjs' });
  f.ready();
  await done;
  const ours: IpcEventLike = { senderFrame: { url: `${pathToFileURL(join(webDir, 'index.html')).href}?scenario=x` } };
  const foreign: IpcEventLike = { senderFrame: { url: 'https://evil.example/' } };
  const call = (e: IpcEventLike, name: keyof typeof CALLS, ...args: unknown[]) => Promise.resolve(f.handlers.get(CALLS[name].channel)!(e, ...args));
  assert.deepEqual(await call(foreign, 'listScenarios'), { ok: false, error: 'refused: IPC call from an unknown page' });
  const list = (await call(ours, 'listScenarios')) as { ok: boolean; value: Array<{ file: string }> };
  assert.ok(list.ok && list.value.some((l) => l.file.endsWith('demo.json')));
  const init = (await call(ours, 'initial')) as { ok: boolean; value: { file: string } };
  assert.equal(init.value.file, 'scenarios/demo.json');
  const loaded = (await call(ours, 'loadScenario', { file: 'scenarios/demo.json' })) as { ok: boolean; value: { sessionId: string } };
  assert.ok(loaded.ok);
  const bytes = await call(ours, 'frames', loaded.value.sessionId, 0, 3);
  assert.ok(bytes instanceof Uint8Array);
  assert.equal(decodeMessage<FrameChunk>(bytes).frames.length, 3);
  assert.match(((await call(ours, 'loadScenario', { file: 'x.json', require: 'fs' })) as { error: string }).error, /load request: expected/);
  assert.match(((await call(ours, 'frames', 'id', '0', 3)) as { error: string }).error, /frames: expected/);
  // A source without a world model imagines nothing.
  const none = await call(ours, 'imagine', loaded.value.sessionId, 5);
  assert.ok(none instanceof Uint8Array);
  assert.deepEqual(decodeMessage<{ imagined: null }>(none), { imagined: null });
  assert.match(((await call(ours, 'imagine', loaded.value.sessionId, 1.5)) as { error: string }).error, /imagine: expected/);
  assert.equal(checkLoadRequest({ text: '{}', name: 'a.json', episode: 2 })?.episode, 2);
  assert.equal(checkLoadRequest({ episode: -1 }), null);
  assert.equal(checkLoadRequest('x'), null);
});

test('preload bridge: one invoke per call on its channel, nothing else exposed', async () => {
  const seen: unknown[][] = [];
  const bridge = makeBridge({ invoke: async (...args: unknown[]) => (seen.push(args), 'r') });
  assert.deepEqual(Object.keys(bridge).sort(), ['frames', 'imagine', 'initial', 'listScenarios', 'loadScenario', 'outcome']);
  await bridge.listScenarios();
  await bridge.initial();
  await bridge.loadScenario({ file: 'a.json' });
  await bridge.frames('s1', 4, 8);
  await bridge.imagine('s1', 7);
  await bridge.outcome('s1', 2);
  assert.deepEqual(seen, [[CALLS.listScenarios.channel], [CALLS.initial.channel], [CALLS.loadScenario.channel, { file: 'a.json' }], [CALLS.frames.channel, 's1', 4, 8], [CALLS.imagine.channel, 's1', 7], [CALLS.outcome.channel, 's1', 2]]);
});

test('launcher: finds the Electron binary only where it exists; writes the page and a one-file CommonJS preload', async () => {
  assert.equal(electronBinary(() => {
    throw new Error('Cannot find module');
  }).available, false);
  assert.match(electronBinary(() => '/no/such/electron').why, /binary was not downloaded/);
  const bin = electronBinary(() => process.execPath);
  assert.deepEqual([bin.available, bin.path], [true, process.execPath]);
  const out = tempDir('ppuu-electron-');
  const { webDir, preloadPath } = await prepareElectronFiles(out);
  for (const f of ['index.html', 'viewer.js', 'viewer.css']) assert.ok(existsSync(join(webDir, f)), f);
  const preload = readFileSync(preloadPath, 'utf8');
  assert.match(preload, /require\("electron"\)/);
  assert.match(preload, /exposeInMainWorld\("ppuuBridge"/);
  assert.match(preload, /ppuu:frames/);
  assert.doesNotMatch(preload, /^\s*import /m, 'no ES imports in a sandboxed preload');
  assert.doesNotMatch(preload, /require\("\.\.?\//, 'no local requires (sandboxed preloads cannot load files)');
});
