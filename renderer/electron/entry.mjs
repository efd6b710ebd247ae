// Electron main-process entry point: loads the TypeScript main through tsx's loader, as
// bin/ppuu.js does for the command line, so the desktop app runs the same sources unbundled.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
