/**
 * Benchmark dispatcher: `npm run bench -- NAME [flags]` runs bench/NAME.ts, which prints JSON
 * (its last line of output is one JSON object). `npm run bench` alone lists the benchmarks.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { registerControllers } from '../policy/register-controllers.js';

// Benchmarks see the same controllers as the CLI and the app.
registerControllers();

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME [flags]\nbenchmarks: ${names.join(', ') || '(none)'}\n`);
  process.exit(name ? 2 : 0);
}
process.argv = [process.argv[0]!, join(here, `${name}.ts`), ...rest];
await import(pathToFileURL(join(here, `${name}.ts`)).href);
