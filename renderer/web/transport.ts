/**
 * The page's side of ViewerApi: Electron's preload bridge when the page runs in the desktop app
 * (window.ppuuBridge, IPC), else HTTP to the local viewer server that served the page. Both carry
 * the same envelopes and the same packed frame chunks, so the rest of the page has one code path.
 */
import { CALLS, unwrap, ViewerError } from '../protocol/api.js';
import type { Envelope } from '../protocol/api.js';
import { decodeMessage } from '../protocol/codec.js';
import type { EpisodeOutcome, FrameChunk, ImaginedFrames, LoadRequest, ScenarioListing, SceneInfo, ViewerApi } from '../protocol/types.js';

/** What renderer/electron/preload.ts exposes through contextBridge. */
export interface PpuuBridge {
  listScenarios(): Promise<Envelope<ScenarioListing[]>>;
  initial(): Promise<Envelope<LoadRequest | null>>;
  loadScenario(req: LoadRequest): Promise<Envelope<SceneInfo>>;
  /** A packed FrameChunk (codec.ts), or an error envelope. */
  frames(sessionId: string, from: number, count: number): Promise<Uint8Array | Envelope<never>>;
  /** A packed { imagined } (codec.ts), or an error envelope. */
  imagine(sessionId: string, index: number): Promise<Uint8Array | Envelope<never>>;
  outcome(sessionId: string, controller: number): Promise<Envelope<EpisodeOutcome>>;
}

declare global {
  interface Window {
    ppuuBridge?: PpuuBridge;
  }
}

function bridgeApi(b: PpuuBridge): ViewerApi {
  return {
    listScenarios: async () => unwrap(await b.listScenarios()),
    initial: async () => unwrap(await b.initial()),
    loadScenario: async (req) => unwrap(await b.loadScenario(req)),
    frames: async (id, from, count) => {
      const r = await b.frames(id, from, count);
      if (r instanceof Uint8Array) return decodeMessage<FrameChunk>(r);
      return unwrap(r);
    },
    imagine: async (id, index) => {
      const r = await b.imagine(id, index);
      if (r instanceof Uint8Array) return decodeMessage<{ imagined: ImaginedFrames | null }>(r).imagined;
      return unwrap(r);
    },
    outcome: async (id, controller) => unwrap(await b.outcome(id, controller)),
  };
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ViewerError(`the viewer server does not answer (${(e as Error).message}); is \`ppuu app\` still running?`);
  }
  const text = await res.text();
  try {
    return unwrap(JSON.parse(text) as Envelope<T>);
  } catch (e) {
    if (e instanceof ViewerError) throw e;
    throw new ViewerError(`the viewer server answered ${res.status} with something that is not JSON`);
  }
}

function httpApi(base: string): ViewerApi {
  return {
    listScenarios: () => getJson(base + CALLS.listScenarios.path),
    initial: () => getJson(base + CALLS.initial.path),
    loadScenario: (req) =>
      getJson(base + CALLS.loadScenario.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) }),
    frames: async (id, from, count) => {
      const url = `${base}${CALLS.frames.path}?session=${encodeURIComponent(id)}&from=${from}&count=${count}`;
      const res = await fetch(url);
      if (res.headers.get('content-type')?.startsWith('application/octet-stream')) {
        return decodeMessage<FrameChunk>(new Uint8Array(await res.arrayBuffer()));
      }
      return unwrap((await res.json()) as Envelope<FrameChunk>);
    },
    imagine: async (id, index) => {
      const res = await fetch(`${base}${CALLS.imagine.path}?session=${encodeURIComponent(id)}&index=${index}`);
      if (res.headers.get('content-type')?.startsWith('application/octet-stream')) {
        return decodeMessage<{ imagined: ImaginedFrames | null }>(new Uint8Array(await res.arrayBuffer())).imagined;
      }
      return unwrap((await res.json()) as Envelope<ImaginedFrames | null>);
    },
    outcome: (id, controller) => getJson(`${base}${CALLS.outcome.path}?session=${encodeURIComponent(id)}&controller=${controller}`),
  };
}

export function connect(): { api: ViewerApi; kind: 'electron' | 'http' } {
  if (typeof window !== 'undefined' && window.ppuuBridge) return { api: bridgeApi(window.ppuuBridge), kind: 'electron' };
  return { api: httpApi(''), kind: 'http' };
}
