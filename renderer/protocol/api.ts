/**
 * The one list of viewer calls and their envelope, shared by the HTTP routes, the Electron IPC
 * channels and the page's client. Every reply is an envelope so that a user error (an invalid
 * scenario) reaches the page as its one-line message, never as a transport error; frame chunks
 * travel packed (codec.ts).
 */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: string };

/** IPC channel names (Electron) and HTTP paths (viewer server) of each call. */
export const CALLS = {
  listScenarios: { channel: 'ppuu:list-scenarios', path: '/api/scenarios' },
  initial: { channel: 'ppuu:initial', path: '/api/initial' },
  loadScenario: { channel: 'ppuu:load-scenario', path: '/api/load' },
  frames: { channel: 'ppuu:frames', path: '/api/frames' },
  imagine: { channel: 'ppuu:imagine', path: '/api/imagine' },
  outcome: { channel: 'ppuu:outcome', path: '/api/outcome' },
} as const;

export type CallName = keyof typeof CALLS;

export function unwrap<T>(e: Envelope<T>): T {
  if (e.ok) return e.value;
  throw new ViewerError(e.error);
}

/** An error the Node side reported (its message is meant for the user, one line). */
export class ViewerError extends Error {
  override name = 'ViewerError';
}
