/**
 * Progress of long work on stderr, never with --json (so that scripts get clean output):
 *
 * - on a terminal (and not under CI): a bar, drawn from the first update on (so that lines
 *   printed before it, such as `backend: ...`, stay on their own line), with an ETA shown as
 *   '-' until the rate is known;
 * - otherwise (pipes, CI logs, nohup): one line every PPUU_PROGRESS_S seconds (default 10),
 *   `LABEL: DONE/TOTAL UNIT (P %), eta ..., FIELD VALUE ...`, and a last one when the work ends
 *   if any was printed.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the absolute position and optional extra fields shown after the bar. */
  update(value: number, extra?: Record<string, string | number>): void;
  setTotal(total: number): void;
  stop(): void;
}

const NOOP: Progress = { update() {}, setTotal() {}, stop() {} };

/**
 * 'bar' on a terminal, 'lines' elsewhere, 'none' with --json, unless PPUU_PROGRESS=lines asks
 * for lines anyway (ppuu pipeline sets it for its steps, whose JSON goes to it on stdout).
 */
export function progressMode(json: boolean | undefined): 'bar' | 'lines' | 'none' {
  if (process.env.PPUU_PROGRESS === 'lines') return 'lines';
  if (json) return 'none';
  return process.stderr.isTTY === true && !process.env.CI ? 'bar' : 'lines';
}

/** True when progress is shown as a bar (a terminal, no --json, not under CI). */
export function progressEnabled(json: boolean | undefined): boolean {
  return progressMode(json) === 'bar';
}

/** Seconds as "12s", "3m05s", "2h10m"; '-' when not known. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Estimates the time left from the progress made since the first update. */
class Eta {
  private t0: number | null = null;
  private v0 = 0;
  seconds(value: number, total: number, now: number): number | null {
    if (this.t0 === null) {
      this.t0 = now;
      this.v0 = value;
      return null;
    }
    const rate = (value - this.v0) / ((now - this.t0) / 1000);
    return rate > 0 ? (total - value) / rate : null;
  }
}

/**
 * Creates the progress of `label` over `total` units. `fields` names extra values (e.g. loss)
 * that update() may pass; they are printed after the counters. `write` and `now` replace
 * stderr and the clock (tests).
 */
export function createProgress(
  label: string,
  total: number,
  opts: { json?: boolean; unit?: string; fields?: string[]; mode?: 'bar' | 'lines' | 'none'; intervalS?: number; write?: (s: string) => void; now?: () => number } = {},
): Progress {
  const mode = opts.mode ?? progressMode(opts.json);
  if (mode === 'none') return NOOP;
  const now = opts.now ?? (() => performance.now());
  return mode === 'bar' ? barProgress(label, total, opts, now) : lineProgress(label, total, opts, now);
}

function barProgress(label: string, total: number, opts: { unit?: string; fields?: string[] }, now: () => number): Progress {
  const extra = (opts.fields ?? []).map((f) => ` ${f} {${f}}`).join('');
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total}${opts.unit ? ' ' + opts.unit : ''} eta {etaText}${extra}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const eta = new Eta();
  let started = false;
  let max = total;
  const fields: Record<string, string | number> = {};
  for (const f of opts.fields ?? []) fields[f] = '-';
  return {
    update: (v, e) => {
      Object.assign(fields, e ?? {});
      const etaText = formatEta(eta.seconds(v, max, now()));
      if (!started) {
        started = true;
        bar.start(max, v, { ...fields, etaText });
      } else bar.update(v, { ...fields, etaText });
    },
    setTotal: (t) => {
      max = t;
      if (started) bar.setTotal(t);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function lineProgress(label: string, total: number, opts: { unit?: string; intervalS?: number; write?: (s: string) => void }, now: () => number): Progress {
  const env = Number(process.env.PPUU_PROGRESS_S);
  const intervalMs = 1000 * (opts.intervalS ?? (Number.isFinite(env) && env > 0 ? env : 10));
  const write = opts.write ?? ((s: string) => process.stderr.write(s));
  const eta = new Eta();
  const t0 = now();
  let last = t0;
  let printed = false;
  let max = total;
  let value = 0;
  let etaS: number | null = null;
  const fields: Record<string, string | number> = {};
  const line = (done: boolean) => {
    const pct = max > 0 ? Math.floor((100 * value) / max) : 0;
    const extra = Object.entries(fields).map(([k, v]) => `, ${k} ${v}`).join('');
    const when = done ? `${formatEta((now() - t0) / 1000)} elapsed` : `eta ${formatEta(etaS)}`;
    write(`${label}: ${value}/${max}${opts.unit ? ' ' + opts.unit : ''} (${pct} %), ${when}${extra}\n`);
    printed = true;
  };
  return {
    update: (v, e) => {
      value = v;
      Object.assign(fields, e ?? {});
      const t = now();
      etaS = eta.seconds(v, max, t);
      if (t - last >= intervalMs) {
        last = t;
        line(false);
      }
    },
    setTotal: (t) => {
      max = t;
    },
    stop: () => {
      if (printed) line(true);
    },
  };
}
