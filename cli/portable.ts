/**
 * Entry point of the portable build (scripts/bundle.ts, `npm run bundle`): what bin/ppuu.js does,
 * without tsx (esbuild has made the sources JavaScript). Installs the SIGINT / SIGTERM handlers
 * before loading the command line, as bin/ppuu.js does.
 */
import { installInterruptHandlers } from '../common/interrupt.js';

installInterruptHandlers();
const { main } = await import('./main.js');
process.exitCode = await main(process.argv);
