/**
 * Reader for raw NGSIM `trajectories-*.txt` files: whitespace-separated, no header, 18 columns
 * in feet, ft/s, ft/s^2 (Vehicle_ID, Frame_ID, Total_Frames, Global_Time, Local_X, Local_Y,
 * Global_X, Global_Y, v_Length, v_Width, v_Class, v_Vel, v_Acc, Lane_ID, Preceding, Following,
 * Space_Headway, Time_Headway).
 *
 * It streams the file in 1 MiB chunks and parses numbers straight from the bytes. csv-parse
 * (used for the CSV formats) cannot treat a run of spaces as one separator and tokenises at
 * about 200k rows/s on its own, below the import target; this tokenizer reaches several times that.
 */
import { createReadStream } from 'node:fs';
import { UserError } from '../../common/errors.js';
import { FOOT_M } from '../layout.js';
import type { ReadContext } from './read-context.js';
import { emptyRow, rangeProblem, type RowField } from './row.js';

export const NGSIM_TXT_COLUMNS = [
  'Vehicle_ID', 'Frame_ID', 'Total_Frames', 'Global_Time', 'Local_X', 'Local_Y', 'Global_X', 'Global_Y', 'v_Length',
  'v_Width', 'v_Class', 'v_Vel', 'v_Acc', 'Lane_ID', 'Preceding', 'Following', 'Space_Headway', 'Time_Headway',
] as const;
const NCOL = NGSIM_TXT_COLUMNS.length;

const COLUMN_OF: Record<RowField, string> = {
  vehicleId: 'Vehicle_ID', frame: 'Frame_ID', localX: 'Local_X', localY: 'Local_Y', speed: 'v_Vel', acceleration: 'v_Acc',
  lane: 'Lane_ID', length: 'v_Length', width: 'v_Width', vClass: 'v_Class',
};

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

const isSpace = (c: number) => c === 32 || c === 9 || c === 13 || c === 11 || c === 12;

export async function readNgsimTxt(ctx: ReadContext): Promise<void> {
  const vals = new Float64Array(NCOL);
  const row = emptyRow();
  let line = 0;
  let firstRow = true;

  /** Parses bytes [s, e) of one line; `last` marks a final line without a newline. */
  const parseLine = (buf: Buffer, s: number, e: number, last: boolean): void => {
    let i = s;
    let col = 0;
    let badCol = -1;
    let badStart = 0;
    let badEnd = 0;
    for (;;) {
      while (i < e && isSpace(buf[i]!)) i++;
      if (i >= e) break;
      const tokStart = i;
      let c = buf[i]!;
      let neg = false;
      if (c === 45) {
        neg = true;
        i++;
      } else if (c === 43) i++;
      let mant = 0;
      let digits = 0;
      let scale = 0;
      let dot = false;
      while (i < e) {
        c = buf[i]!;
        if (c >= 48 && c <= 57) {
          mant = mant * 10 + (c - 48);
          digits++;
          if (dot) scale++;
        } else if (c === 46 && !dot) dot = true;
        else break;
        i++;
      }
      let exp = 0;
      let ok = digits > 0 && digits <= 17;
      if (ok && i < e && (buf[i] === 101 || buf[i] === 69)) {
        i++;
        let eneg = false;
        if (buf[i] === 45 || buf[i] === 43) eneg = buf[i++] === 45;
        let ed = 0;
        while (i < e && buf[i]! >= 48 && buf[i]! <= 57) {
          exp = exp * 10 + (buf[i++]! - 48);
          ed++;
        }
        if (ed === 0) ok = false;
        if (eneg) exp = -exp;
      }
      if (i < e && !isSpace(buf[i]!)) {
        ok = false;
        while (i < e && !isSpace(buf[i]!)) i++;
      }
      if (col < NCOL) {
        if (ok) {
          const p = exp - scale;
          let v = p === 0 ? mant : p < 0 && -p < POW10.length ? mant / POW10[-p]! : p > 0 && p < POW10.length ? mant * POW10[p]! : Number(buf.toString('latin1', tokStart, i));
          if (neg) v = -v;
          vals[col] = v;
        } else if (badCol < 0) {
          badCol = col;
          badStart = tokStart;
          badEnd = i;
        }
      }
      col++;
    }
    if (col === 0) return;
    ctx.counts.rowsRead++;
    if (col !== NCOL) {
      if (firstRow) {
        throw new UserError(`${ctx.file}:${line}: has ${col} columns, raw NGSIM trajectories have ${NCOL} (use --format ngsim-csv, or --mapping for another layout)`);
      }
      ctx.issues.bad('columnCount', ctx.file, line, undefined, `has ${col} columns, expected ${NCOL}${last ? ' (truncated last line?)' : ''}`);
      return;
    }
    firstRow = false;
    if (badCol >= 0) {
      const text = buf.toString('utf8', badStart, Math.min(badEnd, badStart + 40));
      ctx.issues.bad('nonNumeric', ctx.file, line, NGSIM_TXT_COLUMNS[badCol], `'${text}' is not a number`);
      return;
    }
    row.vehicleId = vals[0]!;
    row.frame = vals[1]!;
    const gt = vals[3]!;
    row.globalTimeMs = gt < 1e11 ? gt * 1000 : gt;
    row.localXM = vals[4]! * FOOT_M;
    row.localYM = vals[5]! * FOOT_M;
    row.lengthM = vals[8]! * FOOT_M;
    row.widthM = vals[9]! * FOOT_M;
    row.vClass = vals[10]!;
    row.speedMps = vals[11]! * FOOT_M;
    row.accMps2 = vals[12]! * FOOT_M;
    row.lane = vals[13]!;
    row.preceding = vals[14]!;
    row.spaceHeadwayM = vals[16]! * FOOT_M;
    row.timeHeadwayS = vals[17]!;
    const problem = rangeProblem(row);
    if (problem) {
      ctx.issues.bad('outOfRange', ctx.file, line, COLUMN_OF[problem[0]], problem[1]);
      return;
    }
    ctx.onRow(row, line);
  };

  const stream = createReadStream(ctx.file, { highWaterMark: 1 << 20 });
  let carry: Buffer | null = null;
  let bytes = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      // A UTF-8 byte-order mark before the first row is not part of it.
      let s = bytes === chunk.length && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
      let nl: number;
      while ((nl = buf.indexOf(10, s)) !== -1) {
        line++;
        parseLine(buf, s, nl, false);
        s = nl + 1;
      }
      carry = s < buf.length ? Buffer.from(buf.subarray(s)) : null;
      ctx.onBytes(bytes);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${ctx.file}: cannot read (${(e as Error).message})`);
  }
  if (carry && carry.length > 0) {
    line++;
    parseLine(carry, 0, carry.length, true);
  }
  if (firstRow && ctx.counts.rowsRead === 0) throw new UserError(`${ctx.file}: empty file, no trajectory rows`);
}
