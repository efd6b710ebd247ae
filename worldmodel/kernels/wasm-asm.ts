/**
 * A minimal WebAssembly binary writer: enough to build small compute modules (loops over
 * addresses, i32 arithmetic, f32 and 128-bit SIMD loads, stores and arithmetic) that import
 * another module's linear memory. Used to generate this project's matrix-product kernels at run
 * time (gemm-wasm.ts) so that they work on the tfjs wasm backend's heap without a compiler.
 *
 * Functions are written as instruction sequences on a stack machine, through a chaining
 * builder: `f.get(a).get(b).i32(I.add).set(c)`. Opcodes follow the WebAssembly 2.0 spec
 * (SIMD opcodes are 0xfd-prefixed, LEB128-encoded).
 */

export const T = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof T)[keyof typeof T];

/** Plain (one-byte) opcodes used here. */
export const Op = {
  end: 0x0b,
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32GtU: 0x4b,
  i32LeS: 0x4c,
  i32GeS: 0x4e,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Shl: 0x74,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Div: 0x95,
  f32Max: 0x97,
  f32Sqrt: 0x91,
} as const;

/** SIMD opcodes (after the 0xfd prefix). */
export const Simd = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  f32x4Splat: 0x13,
  f32x4ExtractLane: 0x1f,
  load32Zero: 0x5c,
  store32Lane: 0x5a,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Max: 0xe9,
  /** Relaxed SIMD: a * b + c, fused where the hardware can (stack: a, b, c). */
  f32x4RelaxedMadd: 0x105,
} as const;

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function name(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  out.push(...bytes);
}

/** One function body under construction. Locals are numbered after the parameters. */
export class Fn {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(
    readonly fnName: string,
    readonly params: ValType[],
    readonly results: ValType[] = [],
    readonly exported = true,
  ) {}

  /** A new local of type `t`; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  op(...ops: number[]): this {
    this.code.push(...ops);
    return this;
  }

  simd(op: number): this {
    this.code.push(0xfd);
    uleb(op, this.code);
    return this;
  }

  get(i: number): this {
    this.code.push(0x20);
    uleb(i, this.code);
    return this;
  }

  set(i: number): this {
    this.code.push(0x21);
    uleb(i, this.code);
    return this;
  }

  tee(i: number): this {
    this.code.push(0x22);
    uleb(i, this.code);
    return this;
  }

  i32c(v: number): this {
    this.code.push(0x41);
    sleb(v | 0, this.code);
    return this;
  }

  f32c(v: number): this {
    this.code.push(0x43, ...new Uint8Array(new Float32Array([v]).buffer));
    return this;
  }

  v128zero(): this {
    this.simd(Simd.const);
    for (let i = 0; i < 16; i++) this.code.push(0);
    return this;
  }

  /** Memory access with a constant byte offset (align given as log2 bytes). */
  private memarg(align: number, offset: number): this {
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }

  i32Load(offset = 0): this {
    this.code.push(0x28);
    return this.memarg(2, offset);
  }

  i32Store(offset = 0): this {
    this.code.push(0x36);
    return this.memarg(2, offset);
  }

  f32Load(offset = 0): this {
    this.code.push(0x2a);
    return this.memarg(2, offset);
  }

  f32Store(offset = 0): this {
    this.code.push(0x38);
    return this.memarg(2, offset);
  }

  vLoad(offset = 0): this {
    return this.simd(Simd.load).memarg(2, offset);
  }

  vLoadSplat(offset = 0): this {
    return this.simd(Simd.load32Splat).memarg(2, offset);
  }

  vStore(offset = 0): this {
    return this.simd(Simd.store).memarg(2, offset);
  }

  /** Lane `lane` of the v128 on the stack as an f32. */
  extractLane(lane: number): this {
    this.simd(Simd.f32x4ExtractLane);
    this.code.push(lane);
    return this;
  }

  /** `local += value on the stack` for an i32 local. */
  addTo(i: number, amount: number | { local: number }): this {
    this.get(i);
    if (typeof amount === 'number') this.i32c(amount);
    else this.get(amount.local);
    return this.op(Op.i32Add).set(i);
  }

  /** block ... end (a `br` to it jumps past the end). */
  block(body: () => void): this {
    this.code.push(0x02, 0x40);
    body();
    return this.op(Op.end);
  }

  /** loop ... end (a `br` to it jumps back to the start). */
  loop(body: () => void): this {
    this.code.push(0x03, 0x40);
    body();
    return this.op(Op.end);
  }

  /** if (i32 on the stack) { then } else { otherwise } */
  ifElse(then: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40);
    then();
    if (otherwise) {
      this.code.push(0x05);
      otherwise();
    }
    return this.op(Op.end);
  }

  br(depth: number): this {
    this.code.push(0x0c);
    uleb(depth, this.code);
    return this;
  }

  brIf(depth: number): this {
    this.code.push(0x0d);
    uleb(depth, this.code);
    return this;
  }

  call(fnIndex: number): this {
    this.code.push(0x10);
    uleb(fnIndex, this.code);
    return this;
  }

  /**
   * `for (counter = 0; counter < limit; counter += step) body()`, with the test at the top
   * (limit: a local, read every iteration).
   */
  forLoop(counter: number, limit: number, step: number, body: () => void): this {
    this.i32c(0).set(counter);
    return this.block(() => {
      this.loop(() => {
        this.get(counter).get(limit).op(Op.i32GeS).brIf(1);
        body();
        this.addTo(counter, step);
        this.br(0);
      });
    });
  }

  /** The encoded body: locals (run-length grouped) then the code and `end`. */
  encodeBody(): number[] {
    const groups: Array<[number, ValType]> = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body: number[] = [];
    uleb(groups.length, body);
    for (const [n, t] of groups) {
      uleb(n, body);
      body.push(t);
    }
    body.push(...this.code, Op.end);
    const out: number[] = [];
    uleb(body.length, out);
    out.push(...body);
    return out;
  }
}

/** Largest wasm32 memory in 64 KiB pages (4 GiB); the declared maximum of a shared import. */
export const MAX_PAGES = 65536;

/**
 * A module of functions that imports its memory as env.memory (at least one 64 KiB page; not
 * shared and without a maximum, or with `shared` a shared memory of at most MAX_PAGES, as a
 * shared import must declare one); every function is exported under its name.
 */
export function buildModule(fns: Fn[], opts: { shared?: boolean } = {}): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const section = (id: number, content: number[]) => {
    out.push(id);
    uleb(content.length, out);
    out.push(...content);
  };
  // Types: one per function (duplicates are allowed).
  const types: number[] = [];
  uleb(fns.length, types);
  for (const f of fns) {
    types.push(0x60);
    uleb(f.params.length, types);
    types.push(...f.params);
    uleb(f.results.length, types);
    types.push(...f.results);
  }
  section(1, types);
  const imports: number[] = [];
  uleb(1, imports);
  name('env', imports);
  name('memory', imports);
  if (opts.shared) {
    imports.push(0x02, 0x03, 0x01); // memory, limits: shared, min 1 page, then the max
    uleb(MAX_PAGES, imports);
  } else imports.push(0x02, 0x00, 0x01); // memory, limits: min 1 page, no max
  section(2, imports);
  const funcs: number[] = [];
  uleb(fns.length, funcs);
  fns.forEach((_, i) => uleb(i, funcs));
  section(3, funcs);
  const exports: number[] = [];
  const exported = fns.map((f, i) => [f, i] as const).filter(([f]) => f.exported);
  uleb(exported.length, exports);
  for (const [f, i] of exported) {
    name(f.fnName, exports);
    exports.push(0x00);
    uleb(i, exports);
  }
  section(7, exports);
  const code: number[] = [];
  uleb(fns.length, code);
  for (const f of fns) code.push(...f.encodeBody());
  section(10, code);
  return new Uint8Array(out);
}
