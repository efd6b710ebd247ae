/** The ppuu version string written into data files ("ppuu 0.1.0"), read once from package.json. */
import { packageVersion } from '../common/locate.js';

let cached: string | null = null;

export function ppuuVersion(): string {
  cached ??= `ppuu ${packageVersion()}`;
  return cached;
}
