/**
 * How localised learned filters are: for each atom (h x w x c, in (row, col, channel) order),
 * the largest share of its squared weight that falls inside any s x s spatial window
 * (channels summed). 1 means all of the atom's energy sits in one small window; spread-out
 * filters score about (s / h) * (s / w), plus a little from the best-window choice.
 */

export function windowEnergyShare(atom: ArrayLike<number>, h: number, w: number, c: number, s: number): number {
  const e = new Float64Array(h * w);
  let total = 0;
  for (let r = 0; r < h; r++) {
    for (let col = 0; col < w; col++) {
      let v = 0;
      for (let ch = 0; ch < c; ch++) v += atom[(r * w + col) * c + ch]! ** 2;
      e[r * w + col] = v;
      total += v;
    }
  }
  if (total === 0) return 0;
  let best = 0;
  for (let r0 = 0; r0 + s <= h; r0++) {
    for (let c0 = 0; c0 + s <= w; c0++) {
      let sum = 0;
      for (let r = r0; r < r0 + s; r++) for (let col = c0; col < c0 + s; col++) sum += e[r * w + col]!;
      best = Math.max(best, sum);
    }
  }
  return best / total;
}

/**
 * Mean window share over the K columns of an atoms matrix [h * w * c, K] (row-major), with
 * window size s (default half the patch side, rounded up).
 */
export function meanLocalisation(atoms: ArrayLike<number>, patch: readonly [number, number, number], K: number, s?: number): number {
  const [h, w, c] = patch;
  const win = s ?? Math.ceil(Math.min(h, w) / 2);
  const d = h * w * c;
  const atom = new Float64Array(d);
  let sum = 0;
  for (let j = 0; j < K; j++) {
    for (let i = 0; i < d; i++) atom[i] = atoms[i * K + j]!;
    sum += windowEnergyShare(atom, h, w, c, win);
  }
  return K === 0 ? 0 : sum / K;
}
