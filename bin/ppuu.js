#!/usr/bin/env node
// Entry point of the `ppuu` command: loads the TypeScript sources through tsx's loader, and
// handles SIGINT / SIGTERM (common/interrupt.ts: clean up, save training state, exit 130).
import { register } from 'tsx/esm/api';

register();
const { installInterruptHandlers } = await import('../common/interrupt.ts');
installInterruptHandlers();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
