/**
 * Single-precision matrix products on the tfjs wasm backend's heap, by a WebAssembly SIMD module
 * generated at run time (wasm-asm.ts) that imports the backend's memory:
 *
 *   C[m, n] (+)= sum_k A(m, k) * B[k, n]
 *
 * B is read in place, row-major with any row stride (no packing); A is read in place in either
 * orientation: 'nn' takes A(m, k) at A + m * lda + 4k (rows of A contiguous), 'tn' at
 * A + 4m + k * lda (A stored transposed, [K, M]). This is why these products exist beside
 * XNNPACK's: XNNPACK packs its right-hand operand into a private layout the first time it sees a
 * tensor (4-14 ns per value on this machine), and training gives every weight a new tensor after
 * each update, so every convolution and dense layer paid that packing once per step. Here the
 * weights are used as they lie.
 *
 * The micro-kernel keeps a 4 x 8 tile of C in eight 4-lane registers and for each k loads two
 * vectors of B's row and broadcasts one value of A per row. It multiply-adds with the relaxed-SIMD
 * f32x4.relaxed_madd (a fused multiply-add on x86 with FMA: about 40 GFLOP/s per core here
 * against 30 with separate multiplies and adds); Node 20 has relaxed SIMD behind a V8 flag, which
 * is switched on before compiling, and without it the module uses f32x4.mul + f32x4.add.
 * Blocking: K in chunks of KC (the K x 8 slice of B stays in L1), M in chunks of MC (the MC x KC
 * block of A stays in L2), N in tiles of 8, then a 4-wide tile and single columns for the rest;
 * rows past the last multiple of 4 use narrower tiles. Addresses and strides are in bytes.
 *
 * The module also has variants reading A's rows through address tables (convolutions,
 * conv-gemm.ts), a 4 x 4-block transpose and a convolution window-table builder. On a shared
 * heap (shared-heap.ts) large products are cut into row chunks run by helper threads too
 * (gemm-pool.ts).
 */
import { Fn, Op, Simd, T, buildModule } from './wasm-asm.js';
import { GemmPool, helperThreadsEnabled, type PoolCall } from './gemm-pool.js';

/** node:v8 where this runs in Node (its flags turn relaxed SIMD on), else null. */
const nodeV8 = typeof process !== 'undefined' && process.versions?.node ? await import('node:v8').catch(() => null) : null;

/** Rows per micro-tile (the tile is MR x 8; 4 x 8 uses 11 of the 16 vector registers of x86-64). */
export const MR = 4;
/** Reduction chunk: KC x 8 floats of B (16 KiB) stay in L1 while a block of A streams past. */
export const KC = 512;
/** Row chunk: MC x KC floats of A (at most 512 KiB) stay in L2 while the N tiles sweep over them. */
export const MC = 256;
/**
 * Reduction chunk of the gathered A^T B (a convolution's filter gradient, reducing over output
 * pixels): short, so that the pixels, dy rows and table entries of one chunk stay in L1 while
 * every tile of the (small) result passes over them.
 */
export const KT = 64;

export type GemmLayout = 'nn' | 'tn';
type Variant = GemmLayout | 'nnInd' | 'tnInd' | 'tnBInd';

/** Exported functions of the generated module (argument lists in productFn). */
type Kernel = (...args: number[]) => void;

type Exports = Record<Variant | 'transpose' | 'windowTable' | 'copyRuns', Kernel>;

/**
 * Generates one exported product function. Arguments (i32, addresses and strides in bytes):
 *   nn, tn: (M, N, K, A, lda, B, ldb, C, ldc, acc)
 *   nnInd:  (M, N, nseg, seglen, atab, tabStride, B, ldb, ctab, acc): row m of A is nseg
 *           segments of seglen contiguous floats, segment s starting at the address stored at
 *           atab + m * tabStride + 4s (an indirection table, as for a convolution's input
 *           patches); row m of C starts at the address stored at ctab + 4m; B has
 *           nseg * seglen rows.
 *   tnInd:  (M, N, K, atab, tabStride, aoff, B, ldb, C, ldc, acc): A(m, k) at
 *           [atab + k * tabStride] + aoff + 4m (column k of A^T, i.e. row k of the stored A,
 *           found through the table).
 *   tnBInd: (M, N, K, A, lda, btab, tabStride, boff, C, ldc, acc): A as in tn (A(m, k) at
 *           A + k * lda + 4m), row k of B at [btab + k * tabStride] + boff (found through the
 *           table: a convolution's input pixels under one tap, for a filter gradient with few
 *           output channels computed as dy^T x).
 * acc = 1 adds to C, 0 overwrites it.
 */
function productFn(v: Variant, fma: boolean): Fn {
  const names =
    v === 'nnInd'
      ? (['M', 'N', 'NSEG', 'SEGLEN', 'ATAB', 'TABS', 'B', 'LDB', 'CTAB', 'ACC'] as const)
      : v === 'tnInd'
        ? (['M', 'N', 'K', 'ATAB', 'TABS', 'AOFF', 'B', 'LDB', 'C', 'LDC', 'ACC'] as const)
        : v === 'tnBInd'
          ? (['M', 'N', 'K', 'A', 'LDA', 'BTAB', 'TABS', 'BOFF', 'C', 'LDC', 'ACC'] as const)
          : (['M', 'N', 'K', 'A', 'LDA', 'B', 'LDB', 'C', 'LDC', 'ACC'] as const);
  const f = new Fn(v, names.map(() => T.i32));
  const P = Object.fromEntries(names.map((n, i) => [n, i])) as Record<string, number>;
  const p = (n: string): number => {
    const i = P[n];
    if (i === undefined) throw new Error(`gemm ${v}: no parameter ${n}`);
    return i;
  };
  const m0 = f.local(T.i32);
  const n0 = f.local(T.i32);
  const k = f.local(T.i32);
  const s = f.local(T.i32);
  const mEnd = f.local(T.i32);
  const nEnd = f.local(T.i32);
  const pa = f.local(T.i32); // A (or its table) at the first row of the tile
  const pb = f.local(T.i32); // B at column n0
  const pc = f.local(T.i32); // C at (m0, n0), or the C table at row m0 (nnInd)
  const noff = f.local(T.i32); // 4 * n0 (nnInd: added to the table's row addresses)
  const cp = f.local(T.i32); // C row pointer while loading / storing a tile
  const bp = f.local(T.i32);
  const tp = f.local(T.i32); // table pointer (tnInd)
  const ar = Array.from({ length: MR }, () => f.local(T.i32)); // A row pointers
  const tr = Array.from({ length: MR }, () => f.local(T.i32)); // table row pointers (nnInd)
  const accV = Array.from({ length: MR * 2 }, () => f.local(T.v128));
  const accS = Array.from({ length: MR }, () => f.local(T.f32));
  const bv = [f.local(T.v128), f.local(T.v128)];
  const bs = f.local(T.f32);
  const av = f.local(T.v128);
  const strided = v !== 'nnInd';

  /** Points cp at C's row r of the tile (rows visited in order). */
  const cRow = (r: number) => {
    if (!strided) f.get(pc).i32Load(4 * r).get(noff).op(Op.i32Add).set(cp);
    else if (r === 0) f.get(pc).set(cp);
    else f.addTo(cp, { local: p('LDC') });
  };

  /** One k step of a tile: B's row at bp, A's values of the tile rows, bp advanced. */
  const step = (mr: number, nv: number) => {
    if (v === 'tnInd') f.get(tp).i32Load().get(pa).op(Op.i32Add).set(ar[0]!);
    if (v === 'tnBInd') f.get(tp).i32Load().get(pb).op(Op.i32Add).set(bp);
    if (nv === 0) f.get(bp).f32Load().set(bs);
    for (let j = 0; j < nv; j++) f.get(bp).vLoad(16 * j).set(bv[j]!);
    for (let r = 0; r < mr; r++) {
      const [ptr, off] = v === 'tn' || v === 'tnInd' || v === 'tnBInd' ? [ar[0]!, 4 * r] : [ar[r]!, 0];
      if (nv === 0) {
        f.get(accS[r]!).get(ptr).f32Load(off).get(bs).op(Op.f32Mul).op(Op.f32Add).set(accS[r]!);
        continue;
      }
      f.get(ptr).vLoadSplat(off).set(av);
      for (let j = 0; j < nv; j++) {
        const acc = accV[r * 2 + j]!;
        if (fma) f.get(av).get(bv[j]!).get(acc).simd(Simd.f32x4RelaxedMadd).set(acc);
        else f.get(acc).get(av).get(bv[j]!).simd(Simd.f32x4Mul).simd(Simd.f32x4Add).set(acc);
      }
    }
    if (v === 'nn' || v === 'nnInd') for (let r = 0; r < mr; r++) f.addTo(ar[r]!, 4);
    else if (v === 'tn') f.addTo(ar[0]!, { local: p('LDA') });
    else if (v === 'tnBInd') {
      f.addTo(ar[0]!, { local: p('LDA') });
      f.addTo(tp, { local: p('TABS') });
    } else f.addTo(tp, { local: p('TABS') });
    if (v !== 'tnBInd') f.addTo(bp, { local: p('LDB') });
  };

  /** The tile at (m0, n0) with `mr` rows and `nv` vectors per row (0: one scalar column). */
  const tile = (mr: number, nv: number) => {
    if (v === 'nn') {
      for (let r = 0; r < mr; r++) {
        f.get(pa);
        if (r > 0) f.get(p('LDA')).i32c(r).op(Op.i32Mul).op(Op.i32Add);
        f.set(ar[r]!);
      }
    } else if (v === 'tn') {
      f.get(pa).set(ar[0]!);
    } else if (v === 'tnBInd') {
      f.get(pa).set(ar[0]!);
      f.get(p('BTAB')).set(tp);
    } else if (v === 'nnInd') {
      for (let r = 0; r < mr; r++) {
        f.get(pa);
        if (r > 0) f.get(p('TABS')).i32c(r).op(Op.i32Mul).op(Op.i32Add);
        f.set(tr[r]!);
      }
    } else {
      f.get(p('ATAB')).set(tp);
    }
    if (v !== 'tnBInd') f.get(pb).set(bp);
    f.get(p('ACC')).ifElse(
      () => {
        for (let r = 0; r < mr; r++) {
          cRow(r);
          if (nv === 0) f.get(cp).f32Load().set(accS[r]!);
          for (let j = 0; j < nv; j++) f.get(cp).vLoad(16 * j).set(accV[r * 2 + j]!);
        }
      },
      () => {
        for (let r = 0; r < mr; r++) {
          if (nv === 0) f.f32c(0).set(accS[r]!);
          for (let j = 0; j < nv; j++) f.v128zero().set(accV[r * 2 + j]!);
        }
      },
    );
    if (v === 'nnInd') {
      f.forLoop(s, p('NSEG'), 1, () => {
        for (let r = 0; r < mr; r++) {
          f.get(tr[r]!).i32Load().set(ar[r]!);
          f.addTo(tr[r]!, 4);
        }
        f.forLoop(k, p('SEGLEN'), 1, () => step(mr, nv));
      });
    } else {
      f.forLoop(k, p('K'), 1, () => step(mr, nv));
    }
    for (let r = 0; r < mr; r++) {
      cRow(r);
      if (nv === 0) f.get(cp).get(accS[r]!).f32Store();
      for (let j = 0; j < nv; j++) f.get(cp).get(accV[r * 2 + j]!).vStore(16 * j);
    }
  };

  /** Moves pa and pc down by `mr` rows. */
  const advanceRows = (mr: number) => {
    if (v === 'nn') f.get(pa).get(p('LDA')).i32c(mr).op(Op.i32Mul).op(Op.i32Add).set(pa);
    else if (v === 'nnInd') f.get(pa).get(p('TABS')).i32c(mr).op(Op.i32Mul).op(Op.i32Add).set(pa);
    else f.addTo(pa, 4 * mr);
    if (strided) f.get(pc).get(p('LDC')).i32c(mr).op(Op.i32Mul).op(Op.i32Add).set(pc);
    else f.addTo(pc, 4 * mr);
  };

  /** Every row tile for the current column tile: full MR tiles, then the remaining rows. */
  const rows = (nv: number) => {
    f.get(p('M')).i32c(MR - 1).op(Op.i32Sub).set(mEnd); // full tiles while m0 < M - (MR - 1)
    f.get(p(v === 'nn' || v === 'tn' || v === 'tnBInd' ? 'A' : v === 'nnInd' ? 'ATAB' : 'AOFF')).set(pa);
    if (strided) f.get(p('C')).get(n0).i32c(4).op(Op.i32Mul).op(Op.i32Add).set(pc);
    else f.get(p('CTAB')).set(pc);
    f.get(n0).i32c(4).op(Op.i32Mul).set(noff);
    f.i32c(0).set(m0);
    f.block(() => {
      f.loop(() => {
        f.get(m0).get(mEnd).op(Op.i32GeS).brIf(1);
        tile(MR, nv);
        f.addTo(m0, MR);
        advanceRows(MR);
        f.br(0);
      });
    });
    for (let mr = MR - 1; mr >= 1; mr--) {
      f.get(p('M')).get(m0).op(Op.i32Sub).i32c(mr).op(Op.i32Eq).ifElse(() => tile(mr, nv));
    }
  };

  // Column tiles of 8, then one of 4, then single columns.
  f.i32c(0).set(n0);
  const columns = (width: number, nv: number) => {
    f.get(p('N')).i32c(width - 1).op(Op.i32Sub).set(nEnd);
    f.block(() => {
      f.loop(() => {
        f.get(n0).get(nEnd).op(Op.i32GeS).brIf(1);
        f.get(p(v === 'tnBInd' ? 'BOFF' : 'B')).get(n0).i32c(4).op(Op.i32Mul).op(Op.i32Add).set(pb);
        rows(nv);
        f.addTo(n0, width);
        f.br(0);
      });
    });
  };
  columns(8, 2);
  columns(4, 1);
  columns(1, 0);
  return f;
}

/**
 * transpose(rows, cols, src, srcStride, dst, dstStride): dst[c, r] = src[r, c] for a rows x cols
 * block (strides in bytes), 4 x 4 blocks at a time through lane shuffles, scalar at the edges.
 */
function transposeFn(): Fn {
  const f = new Fn('transpose', [T.i32, T.i32, T.i32, T.i32, T.i32, T.i32]);
  const [ROWS, COLS, SRC, SS, DST, DS] = [0, 1, 2, 3, 4, 5];
  const r = f.local(T.i32);
  const c = f.local(T.i32);
  const rEnd = f.local(T.i32);
  const cEnd = f.local(T.i32);
  const c0 = f.local(T.i32);
  const sp = f.local(T.i32);
  const dp = f.local(T.i32);
  const rows = [f.local(T.v128), f.local(T.v128), f.local(T.v128), f.local(T.v128)];
  const t = [f.local(T.v128), f.local(T.v128), f.local(T.v128), f.local(T.v128)];
  const lanes = (a: number[]) => a.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
  // Lane patterns over the 8 floats of two vectors (0-3: first, 4-7: second).
  const LO = lanes([0, 4, 1, 5]);
  const HI = lanes([2, 6, 3, 7]);
  const LOW_HALVES = lanes([0, 1, 4, 5]);
  const HIGH_HALVES = lanes([2, 3, 6, 7]);
  const shuffle = (a: number, b: number, pattern: number[], out: number) => {
    f.get(a).get(b).simd(Simd.shuffle).op(...pattern).set(out);
  };
  /** Scalar copies dst[c, r] = src[r, c] of row r for c from its current value (or 0) to COLS. */
  const scalarRest = (fromCurrent: boolean) => {
    if (!fromCurrent) f.i32c(0).set(c);
    f.block(() => {
      f.loop(() => {
        f.get(c).get(COLS).op(Op.i32GeS).brIf(1);
        f.get(DST).get(c).get(DS).op(Op.i32Mul).op(Op.i32Add).get(r).i32c(4).op(Op.i32Mul).op(Op.i32Add);
        f.get(SRC).get(r).get(SS).op(Op.i32Mul).op(Op.i32Add).get(c).i32c(4).op(Op.i32Mul).op(Op.i32Add).f32Load();
        f.f32Store();
        f.addTo(c, 1);
        f.br(0);
      });
    });
  };
  f.get(ROWS).i32c(3).op(Op.i32Sub).set(rEnd);
  f.get(COLS).i32c(3).op(Op.i32Sub).set(cEnd);
  f.i32c(0).set(r);
  f.block(() => {
    f.loop(() => {
      f.get(r).get(rEnd).op(Op.i32GeS).brIf(1);
      f.i32c(0).set(c);
      f.block(() => {
        f.loop(() => {
          f.get(c).get(cEnd).op(Op.i32GeS).brIf(1);
          f.get(SRC).get(r).get(SS).op(Op.i32Mul).op(Op.i32Add).get(c).i32c(4).op(Op.i32Mul).op(Op.i32Add).set(sp);
          for (let k = 0; k < 4; k++) {
            f.get(sp).vLoad().set(rows[k]!);
            if (k < 3) f.addTo(sp, { local: SS });
          }
          shuffle(rows[0]!, rows[1]!, LO, t[0]!);
          shuffle(rows[0]!, rows[1]!, HI, t[1]!);
          shuffle(rows[2]!, rows[3]!, LO, t[2]!);
          shuffle(rows[2]!, rows[3]!, HI, t[3]!);
          shuffle(t[0]!, t[2]!, LOW_HALVES, rows[0]!);
          shuffle(t[0]!, t[2]!, HIGH_HALVES, rows[1]!);
          shuffle(t[1]!, t[3]!, LOW_HALVES, rows[2]!);
          shuffle(t[1]!, t[3]!, HIGH_HALVES, rows[3]!);
          f.get(DST).get(c).get(DS).op(Op.i32Mul).op(Op.i32Add).get(r).i32c(4).op(Op.i32Mul).op(Op.i32Add).set(dp);
          for (let k = 0; k < 4; k++) {
            f.get(dp).get(rows[k]!).vStore();
            if (k < 3) f.addTo(dp, { local: DS });
          }
          f.addTo(c, 4);
          f.br(0);
        });
      });
      // the last cols % 4 columns of these four rows
      f.get(c).set(c0);
      for (let k = 0; k < 4; k++) {
        f.get(c0).set(c);
        scalarRest(true);
        f.addTo(r, 1);
      }
      f.br(0);
    });
  });
  // the last rows % 4 rows, every column
  f.block(() => {
    f.loop(() => {
      f.get(r).get(ROWS).op(Op.i32GeS).brIf(1);
      scalarRest(false);
      f.addTo(r, 1);
      f.br(0);
    });
  });
  return f;
}

/**
 * windowTable(out, x, zero, batch, outH, outW, kh, kw, sh, sw, dh, dw, top, left, inH, inW,
 * pixBytes): for every output pixel (b, oh, ow) and tap (i, j) of a convolution, the address of
 * input pixel (b, oh*sh - top + i*dh, ow*sw - left + j*dw) of the NHWC tensor at x, or `zero`
 * where that lies outside the input; written as consecutive int32 at out (conv-gemm.ts).
 */
function windowTableFn(): Fn {
  const names = ['OUT', 'X', 'ZERO', 'BATCH', 'OUTH', 'OUTW', 'KH', 'KW', 'SH', 'SW', 'DH', 'DW', 'TOP', 'LEFT', 'INH', 'INW', 'PIX'] as const;
  const f = new Fn('windowTable', names.map(() => T.i32));
  const P = Object.fromEntries(names.map((n, i) => [n, i])) as Record<(typeof names)[number], number>;
  const [b, oh, ow, i, j, ih, iw, ih0, iw0, rowAddr, xb, rowOk, rowBytes, o] = Array.from({ length: 14 }, () => f.local(T.i32));
  f.get(P.OUT).set(o);
  f.get(P.INW).get(P.PIX).op(Op.i32Mul).set(rowBytes);
  f.forLoop(b, P.BATCH, 1, () => {
    f.get(P.X).get(b).get(P.INH).op(Op.i32Mul).get(rowBytes).op(Op.i32Mul).op(Op.i32Add).set(xb);
    f.forLoop(oh, P.OUTH, 1, () => {
      f.get(oh).get(P.SH).op(Op.i32Mul).get(P.TOP).op(Op.i32Sub).set(ih0);
      f.forLoop(ow, P.OUTW, 1, () => {
        f.get(ow).get(P.SW).op(Op.i32Mul).get(P.LEFT).op(Op.i32Sub).set(iw0);
        f.forLoop(i, P.KH, 1, () => {
          f.get(ih0).get(i).get(P.DH).op(Op.i32Mul).op(Op.i32Add).set(ih);
          f.get(ih).get(P.INH).op(Op.i32LtU).set(rowOk); // 0 <= ih < inH in one unsigned compare
          f.get(xb).get(ih).get(rowBytes).op(Op.i32Mul).op(Op.i32Add).set(rowAddr);
          f.forLoop(j, P.KW, 1, () => {
            f.get(iw0).get(j).get(P.DW).op(Op.i32Mul).op(Op.i32Add).set(iw);
            f.get(o);
            f.get(rowAddr).get(iw).get(P.PIX).op(Op.i32Mul).op(Op.i32Add); // if inside
            f.get(P.ZERO); // else
            f.get(rowOk).get(iw).get(P.INW).op(Op.i32LtU).op(Op.i32And);
            f.op(Op.select).i32Store();
            f.addTo(o, 4);
          });
        });
      });
    });
  });
  return f;
}

/**
 * copyRuns(dst, dstStep, src, srcStep, count, runBytes): `count` runs of `runBytes` bytes (a
 * multiple of 4), the k-th from src + k * srcStep to dst + k * dstStep (all in bytes): 16 bytes
 * at a time, then 4 at a time. The strided copies of Slice, Concat and Pad (slice.ts), which
 * copy a frame's 3 channels at a time.
 */
function copyRunsFn(): Fn {
  const f = new Fn('copyRuns', [T.i32, T.i32, T.i32, T.i32, T.i32, T.i32]);
  const [DST, DS, SRC, SS, COUNT, RUN] = [0, 1, 2, 3, 4, 5];
  const k = f.local(T.i32);
  const i = f.local(T.i32);
  const vecEnd = f.local(T.i32);
  f.get(RUN).i32c(15).op(Op.i32Sub).set(vecEnd);
  f.forLoop(k, COUNT, 1, () => {
    f.i32c(0).set(i);
    f.block(() => {
      f.loop(() => {
        f.get(i).get(vecEnd).op(Op.i32GeS).brIf(1);
        f.get(DST).get(i).op(Op.i32Add).get(SRC).get(i).op(Op.i32Add).vLoad().vStore();
        f.addTo(i, 16);
        f.br(0);
      });
    });
    f.block(() => {
      f.loop(() => {
        f.get(i).get(RUN).op(Op.i32GeS).brIf(1);
        f.get(DST).get(i).op(Op.i32Add).get(SRC).get(i).op(Op.i32Add).i32Load().i32Store();
        f.addTo(i, 4);
        f.br(0);
      });
    });
    f.addTo(DST, { local: DS });
    f.addTo(SRC, { local: SS });
  });
  return f;
}

/** Names of the module's exported functions, in a fixed order (pool job records refer to them by index). */
export const GEMM_FUNCTIONS = ['nn', 'tn', 'nnInd', 'tnInd', 'transpose', 'windowTable', 'copyRuns', 'tnBInd'] as const;

/** The module's bytes, with or without fused multiply-adds, for a plain or a shared memory. */
export function gemmModuleBytes(fma: boolean, shared = false): Uint8Array {
  const variants: Variant[] = ['nn', 'tn', 'nnInd', 'tnInd', 'tnBInd'];
  return buildModule([...variants.map((v) => productFn(v, fma)), transposeFn(), windowTableFn(), copyRunsFn()], { shared });
}

const compiled = new Map<boolean, { module: WebAssembly.Module; fma: boolean }>();

/**
 * The compiled module for a plain or a shared memory (once per thread): the fused multiply-add
 * version where relaxed SIMD validates (after turning on V8's flag for it in Node), else the
 * plain one.
 */
export function compiledGemmModule(shared = false): { module: WebAssembly.Module; fma: boolean } {
  const hit = compiled.get(shared);
  if (hit) return hit;
  const fmaBytes = gemmModuleBytes(true, shared);
  let fma = !noFma() && WebAssembly.validate(fmaBytes as BufferSource);
  if (!fma && nodeV8 && !noFma()) {
    try {
      nodeV8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      fma = WebAssembly.validate(fmaBytes as BufferSource);
    } catch {
      fma = false;
    }
  }
  const c = { module: new WebAssembly.Module((fma ? fmaBytes : gemmModuleBytes(false, shared)) as BufferSource), fma };
  compiled.set(shared, c);
  return c;
}

/** PPUU_NO_FMA=1 keeps separate multiplies and adds (for comparisons). */
function noFma(): boolean {
  return typeof process !== 'undefined' && !!process.env.PPUU_NO_FMA;
}

/** Whether the products multiply-add in one instruction (relaxed SIMD available); compiles the module. */
export function gemmUsesFma(): boolean {
  try {
    return compiledGemmModule().fma;
  } catch {
    return false;
  }
}

/** Whether `memory` is shared between threads (its buffer a SharedArrayBuffer). */
export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** Products per memory (one per wasm backend instance). */
const gemms = new WeakMap<WebAssembly.Memory, Gemm>();

/**
 * Products bound to `memory` (the tfjs wasm heap; on a shared heap they split large products
 * over a pool of threads, gemm-pool.ts); null where the module cannot be compiled or
 * instantiated here.
 */
export function gemmFor(memory: WebAssembly.Memory): Gemm | null {
  let g = gemms.get(memory);
  if (!g) {
    try {
      const shared = isShared(memory);
      const { module } = compiledGemmModule(shared);
      const ex = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exports;
      g = new Gemm(ex, shared ? GemmPool.start(module, memory, GEMM_FUNCTIONS) : null);
    } catch {
      return null;
    }
    gemms.set(memory, g);
  }
  return g;
}

/** Products smaller than this many multiply-adds (~0.1 ms) run on the calling thread alone: a dispatch costs tens of microseconds. */
const PARALLEL_MACS = 1 << 22;

/**
 * Blocked products over byte addresses of one memory. With a pool (a shared heap), each large
 * product's rows are cut into chunks (multiples of MR), each chunk a task of blocked calls that
 * whichever thread is free takes (gemm-pool.ts); batch() groups several products into one such
 * dispatch.
 */
export class Gemm {
  private readonly fns: Kernel[];
  /** Tasks collected for the next dispatch (null: none open). */
  private tasks: PoolCall[][] | null = null;
  private current: PoolCall[] | null = null;
  /** Calls run as issued (no dispatch open and nothing to share). */
  private direct = false;
  private depth = 0;

  constructor(
    private readonly ex: Exports,
    private readonly pool: GemmPool | null = null,
  ) {
    this.fns = GEMM_FUNCTIONS.map((n) => ex[n]);
  }

  /** Threads products may be split over. */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Runs the products issued by `body` as one dispatch (their row chunks shared by the threads). */
  batch(body: () => void): void {
    this.depth++;
    this.tasks ??= [];
    try {
      body();
    } finally {
      if (--this.depth === 0) this.flush();
    }
  }

  /**
   * C (M x N, row stride ldc) = (or += with `accumulate`) A(M x K) B (K x N, row stride ldb);
   * A's layout as in the file comment. All addresses and strides in bytes.
   */
  product(layout: GemmLayout, m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void {
    if (m <= 0 || n <= 0) return;
    const fn = GEMM_FUNCTIONS.indexOf(layout);
    this.split(m, m * n * k, (r0, r1) => {
      const rows = r1 - r0;
      const a0 = layout === 'nn' ? a + r0 * lda : a + 4 * r0;
      const c0 = c + r0 * ldc;
      if (k <= 0) {
        if (!accumulate) this.call(fn, [rows, n, 0, a0, lda, b, ldb, c0, ldc, 0]); // an empty sum: zeros
        return;
      }
      for (let k0 = 0; k0 < k; k0 += KC) {
        const kc = Math.min(KC, k - k0);
        const aK = layout === 'nn' ? a0 + 4 * k0 : a0 + k0 * lda;
        const acc = accumulate || k0 > 0 ? 1 : 0;
        for (let m0 = 0; m0 < rows; m0 += MC) {
          const aM = layout === 'nn' ? aK + m0 * lda : aK + 4 * m0;
          this.call(fn, [Math.min(MC, rows - m0), n, kc, aM, lda, b + k0 * ldb, ldb, c0 + m0 * ldc, ldc, acc]);
        }
      }
    });
  }

  /**
   * C = (or += ) A B with A's rows gathered through a table (variant nnInd): row m of A is `nseg`
   * segments of `seglen` floats at the addresses stored at atab + m * tabStride + 4s; row m of C
   * at the address stored at ctab + 4m; B has nseg * seglen rows of stride ldb. With nseg = 0
   * and no accumulation, C's rows are zeroed.
   */
  indirect(m: number, n: number, nseg: number, seglen: number, atab: number, tabStride: number, b: number, ldb: number, ctab: number, accumulate: boolean): void {
    if (m <= 0 || n <= 0) return;
    const fn = GEMM_FUNCTIONS.indexOf('nnInd');
    this.split(m, m * n * nseg * seglen, (r0, r1) => {
      const rows = r1 - r0;
      const at0 = atab + r0 * tabStride;
      const ct0 = ctab + 4 * r0;
      if (nseg <= 0 || seglen <= 0) {
        if (!accumulate) this.call(fn, [rows, n, 0, 0, at0, tabStride, b, ldb, ct0, 0]);
        return;
      }
      const group = Math.max(1, Math.floor(KC / seglen));
      for (let s0 = 0; s0 < nseg; s0 += group) {
        const ns = Math.min(group, nseg - s0);
        const acc = accumulate || s0 > 0 ? 1 : 0;
        for (let m0 = 0; m0 < rows; m0 += MC) {
          this.call(fn, [Math.min(MC, rows - m0), n, ns, seglen, at0 + m0 * tabStride + 4 * s0, tabStride, b + s0 * seglen * ldb, ldb, ct0 + 4 * m0, acc]);
        }
      }
    });
  }

  /**
   * C (M x N) = (or +=) A^T B where column k of A^T (M floats) starts at the address stored at
   * atab + k * tabStride, plus aoff (variant tnInd); B has K rows of stride ldb.
   */
  indirectT(m: number, n: number, k: number, atab: number, tabStride: number, aoff: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean, maxChunks = Infinity): void {
    if (m <= 0 || n <= 0) return;
    const fn = GEMM_FUNCTIONS.indexOf('tnInd');
    this.split(m, m * n * k, (r0, r1) => {
      const rows = r1 - r0;
      if (k <= 0) {
        if (!accumulate) this.call(fn, [rows, n, 0, atab, tabStride, aoff + 4 * r0, b, ldb, c + r0 * ldc, ldc, 0]);
        return;
      }
      for (let k0 = 0; k0 < k; k0 += KT) {
        const kc = Math.min(KT, k - k0);
        const acc = accumulate || k0 > 0 ? 1 : 0;
        for (let m0 = r0; m0 < r1; m0 += MC) {
          this.call(fn, [Math.min(MC, r1 - m0), n, kc, atab + k0 * tabStride, tabStride, aoff + 4 * m0, b + k0 * ldb, ldb, c + m0 * ldc, ldc, acc]);
        }
      }
    }, maxChunks);
  }

  /** `count` runs of `runBytes` bytes from src + k * srcStep to dst + k * dstStep (addresses and steps in bytes; runBytes a multiple of 4). */
  copyRuns(dst: number, dstStep: number, src: number, srcStep: number, count: number, runBytes: number): void {
    this.flush();
    if (count > 0 && runBytes > 0) this.ex.copyRuns(dst, dstStep, src, srcStep, count, runBytes);
  }

  /**
   * C (M x N) = (or +=) A^T B with A as in tn (column k of A^T at a + k * lda) and row k of B at
   * the address stored at btab + k * tabStride, plus boff (variant tnBInd).
   */
  indirectBT(m: number, n: number, k: number, a: number, lda: number, btab: number, tabStride: number, boff: number, c: number, ldc: number, accumulate: boolean, maxChunks = Infinity): void {
    if (m <= 0 || n <= 0) return;
    const fn = GEMM_FUNCTIONS.indexOf('tnBInd');
    this.split(m, m * n * k, (r0, r1) => {
      const rows = r1 - r0;
      if (k <= 0) {
        if (!accumulate) this.call(fn, [rows, n, 0, a + 4 * r0, lda, btab, tabStride, boff, c + r0 * ldc, ldc, 0]);
        return;
      }
      for (let k0 = 0; k0 < k; k0 += KT) {
        const kc = Math.min(KT, k - k0);
        const acc = accumulate || k0 > 0 ? 1 : 0;
        for (let m0 = r0; m0 < r1; m0 += MC) {
          this.call(fn, [Math.min(MC, r1 - m0), n, kc, a + 4 * m0 + k0 * lda, lda, btab + k0 * tabStride, tabStride, boff, c + m0 * ldc, ldc, acc]);
        }
      }
    }, maxChunks);
  }

  /** dst[c, r] = src[r, c] for a rows x cols block (addresses and strides in bytes). */
  transpose(rows: number, cols: number, src: number, srcStride: number, dst: number, dstStride: number): void {
    this.flush();
    if (rows > 0 && cols > 0) this.ex.transpose(rows, cols, src, srcStride, dst, dstStride);
  }

  /** The window table of a convolution (see windowTableFn); `out` holds batch*outH*outW*kh*kw int32. */
  windowTable(out: number, x: number, zero: number, g: { batch: number; outH: number; outW: number; kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; top: number; left: number; inH: number; inW: number; inC: number }): void {
    this.flush();
    this.ex.windowTable(out, x, zero, g.batch, g.outH, g.outW, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.top, g.left, g.inH, g.inW, g.inC * 4);
  }

  /**
   * Calls `emit(r0, r1)` for each task's rows of [0, m): one task for small products or without
   * helper threads, else chunks of a multiple of MR rows, about four per thread. Outside batch()
   * the tasks are run before returning.
   */
  private split(m: number, macs: number, emit: (r0: number, r1: number) => void, maxChunks = Infinity): void {
    const parallel = this.pool !== null && macs >= PARALLEL_MACS && helperThreadsEnabled() && this.pool.available();
    if (!parallel && this.tasks === null) {
      // Nothing to share: run the calls as they are issued.
      this.direct = true;
      try {
        emit(0, m);
      } finally {
        this.direct = false;
      }
      return;
    }
    const chunks = parallel ? Math.max(1, Math.min(Math.ceil(m / MR), 4 * this.threads, maxChunks)) : 1;
    const own = this.tasks === null;
    this.tasks ??= [];
    try {
      let r0 = 0;
      for (let i = 0; i < chunks; i++) {
        const r1 = i === chunks - 1 ? m : Math.min(m, Math.round((m * (i + 1)) / chunks / MR) * MR);
        if (r1 <= r0) continue;
        this.current = [];
        emit(r0, r1);
        this.tasks.push(this.current);
        r0 = r1;
      }
    } finally {
      this.current = null;
      if (own && this.depth === 0) this.flush();
    }
  }

  private call(fn: number, args: number[]): void {
    if (this.direct) this.fns[fn]!(...args);
    else this.current!.push({ fn, args });
  }

  /** Runs every collected task (on the helpers too when there are several) and clears them. */
  private flush(): void {
    const tasks = this.tasks;
    this.tasks = this.depth > 0 ? [] : null;
    if (!tasks || tasks.length === 0) return;
    const local = (c: PoolCall) => {
      this.fns[c.fn]!(...c.args);
    };
    if (this.pool && tasks.length > 1 && helperThreadsEnabled() && this.pool.available()) this.pool.run(tasks, local);
    else for (const task of tasks) for (const c of task) local(c);
  }
}
