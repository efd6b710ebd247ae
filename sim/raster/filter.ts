/**
 * Antialiased downscale weights: a triangle (bilinear) filter whose support is stretched by the
 * scale factor, like PIL's bilinear resize. For a downscale by f, output pixel i has its centre
 * at input coordinate (i + 0.5) f and weighs input pixel c by max(0, 1 - |c + 0.5 - (i + 0.5) f| / f),
 * normalised to sum to 1 over the input pixels that exist (so edges are not darkened).
 * With f = 4 each input pixel feeds two output pixels.
 */

export interface FilterTaps {
  nIn: number;
  nOut: number;
  /** weights[i * nIn + c]: weight of input c in output i. */
  weights: Float64Array;
}

export function triangleTaps(nIn: number, nOut: number): FilterTaps {
  const f = nIn / nOut;
  const weights = new Float64Array(nOut * nIn);
  for (let i = 0; i < nOut; i++) {
    const centre = (i + 0.5) * f;
    const lo = Math.max(0, Math.floor(centre - f));
    const hi = Math.min(nIn, Math.ceil(centre + f));
    let sum = 0;
    for (let c = lo; c < hi; c++) {
      const w = Math.max(0, 1 - Math.abs(c + 0.5 - centre) / f);
      weights[i * nIn + c] = w;
      sum += w;
    }
    for (let c = lo; c < hi; c++) weights[i * nIn + c]! /= sum;
  }
  return { nIn, nOut, weights };
}

/**
 * Per input index, the (at most `maxPer`) outputs it feeds and with which weight: outIdx[c * maxPer + k]
 * (-1 when unused) and outW[c * maxPer + k].
 */
export function scatterTable(t: FilterTaps, maxPer = 2): { outIdx: Int32Array; outW: Float64Array; maxPer: number } {
  const outIdx = new Int32Array(t.nIn * maxPer).fill(-1);
  const outW = new Float64Array(t.nIn * maxPer);
  for (let c = 0; c < t.nIn; c++) {
    let k = 0;
    for (let i = 0; i < t.nOut; i++) {
      const w = t.weights[i * t.nIn + c]!;
      if (w > 0) {
        if (k >= maxPer) throw new Error(`input ${c} feeds more than ${maxPer} outputs`);
        outIdx[c * maxPer + k] = i;
        outW[c * maxPer + k] = w;
        k++;
      }
    }
  }
  return { outIdx, outW, maxPer };
}

/**
 * Cumulative weights for runs: cum[i * (nIn + 1) + c] = sum of weights of inputs < c in output i,
 * so a run of lit inputs [s, e) adds cum[i][e] - cum[i][s] to output i.
 */
export function cumulativeTable(t: FilterTaps): Float64Array {
  const cum = new Float64Array(t.nOut * (t.nIn + 1));
  for (let i = 0; i < t.nOut; i++) {
    let s = 0;
    for (let c = 0; c < t.nIn; c++) {
      cum[i * (t.nIn + 1) + c] = s;
      s += t.weights[i * t.nIn + c]!;
    }
    cum[i * (t.nIn + 1) + t.nIn] = s;
  }
  return cum;
}
