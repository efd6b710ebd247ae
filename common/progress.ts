/**
 * Progress bars for long work, shown on stderr only when it is a terminal and JSON output was
 * not asked for (so that scripts and CI logs stay clean).
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the absolute position and optional extra fields shown after the bar. */
  update(value: number, extra?: Record<string, string | number>): void;
  setTotal(total: number): void;
  stop(): void;
}

const NOOP: Progress = { update() {}, setTotal() {}, stop() {} };

export function progressEnabled(json: boolean | undefined): boolean {
  return !json && process.stderr.isTTY === true && !process.env.CI;
}

/**
 * Creates a bar titled `label` over `total` units. `fields` names extra values (e.g. loss) that
 * update() may pass; they are printed after the counters.
 */
export function createProgress(label: string, total: number, opts: { json?: boolean; unit?: string; fields?: string[] } = {}): Progress {
  if (!progressEnabled(opts.json)) return NOOP;
  const extra = (opts.fields ?? []).map((f) => ` ${f} {${f}}`).join('');
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total}${opts.unit ? ' ' + opts.unit : ''} eta {eta_formatted}${extra}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const init: Record<string, string> = {};
  for (const f of opts.fields ?? []) init[f] = '-';
  bar.start(total, 0, init);
  return {
    update: (v, e) => bar.update(v, e ?? {}),
    setTotal: (t) => bar.setTotal(t),
    stop: () => bar.stop(),
  };
}
