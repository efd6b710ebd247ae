/** The ppuu version string written into data files ("ppuu 0.1.0"), read once from package.json. */
import { readFileSync } from 'node:fs';

let cached: string | null = null;

export function ppuuVersion(): string {
  if (cached === null) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    cached = `ppuu ${pkg.version}`;
  }
  return cached;
}
