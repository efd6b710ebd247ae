/**
 * The playback clock: which episode frame is shown, whether it advances, and how fast. Frames
 * are 0.1 s of simulated time; at speed s, wall time dt advances s * dt / 0.1 frames. Pure logic
 * (no DOM), so that pause / step / scrub rules are tested without a browser.
 */
export class Playback {
  /** Frame shown now. */
  index = 0;
  playing = false;
  /** Multiples of real time. */
  speed = 1;
  /** Frames the episode can have: index stays below this (the scenario's bound, the real length once known). */
  limit = 1;
  /** True once `limit` is the episode's real length. */
  final = false;
  private carryS = 0;

  constructor(readonly frameDtS: number) {}

  play(): void {
    if (this.final && this.index >= this.limit - 1) this.index = 0;
    this.playing = true;
  }

  pause(): void {
    this.playing = false;
    this.carryS = 0;
  }

  /** Pauses and moves by `n` frames (negative steps back), clamped to the frames that exist. */
  step(n = 1): number {
    this.pause();
    return this.seek(this.index + n);
  }

  /** Jumps to frame `i` (clamped); keeps playing or paused as it was. */
  seek(i: number): number {
    this.index = Math.max(0, Math.min(Math.round(i), this.limit - 1));
    this.carryS = 0;
    return this.index;
  }

  /**
   * Advances by the wall time dtS (seconds since the last tick). `loadedUntil` is the first frame
   * after the current one that is not loaded yet: playback waits there (buffering) and stops at
   * the end of the episode. Returns true when the frame changed.
   */
  tick(dtS: number, loadedUntil = Infinity): boolean {
    if (!this.playing) return false;
    // A long stall (hidden tab, debugger) must not jump far ahead.
    this.carryS += Math.min(dtS, 0.5) * this.speed;
    const advance = Math.floor(this.carryS / this.frameDtS + 1e-9);
    if (advance <= 0) return false;
    this.carryS -= advance * this.frameDtS;
    const before = this.index;
    const end = this.limit - 1;
    const ready = Math.min(end, loadedUntil - 1);
    const target = this.index + advance;
    if (target >= ready) {
      this.index = Math.max(this.index, ready);
      this.carryS = 0;
      if (this.final && this.index >= end) this.playing = false;
    } else {
      this.index = target;
    }
    return this.index !== before;
  }
}
