/**
 * `ppuu app [--scenario FILE] [--port N] [--no-open] [--browser] [--json]`: the simulator app.
 * Launches Electron where its binary works; otherwise (or with --browser) serves the same viewer
 * on 127.0.0.1, prints its address and, unless --no-open, opens it in the system browser. The
 * scenario file is checked first: a mistake is one line on stderr and exit code 2.
 */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNumber, printJson, say } from '../output.js';
import { pollInterrupts } from '../../common/interrupt.js';

const SHIPPED_SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scenarios');

function openInBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => say(`(could not open a browser; open ${url} yourself)`));
    child.unref();
  } catch {
    say(`(could not open a browser; open ${url} yourself)`);
  }
}

function waitForSignal(): Promise<void> {
  // The app ends on the first signal by itself (exit code 0), not through common/interrupt.ts's immediate stop.
  const release = pollInterrupts('');
  return new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      release();
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerApp(program: Command): void {
  program
    .command('app')
    .description('open the simulator app (Electron, or the viewer on 127.0.0.1 in a browser)')
    .option('--scenario <file>', 'scenario or suite JSON to show first')
    .option('--port <n>', 'viewer port on 127.0.0.1 (0 picks a free one)', parseNumber('--port', true, 0), 0)
    .option('--no-open', 'do not open a browser (viewer mode)')
    .option('--browser', 'serve the browser viewer even where Electron works')
    .option('--json', 'print one JSON object with the viewer address (viewer mode)')
    .action(async (opts: { scenario?: string; port: number; open: boolean; browser?: boolean; json?: boolean }) => {
      const { loadScenarioFile } = await import('../../scenarios/validate.js');
      const { checkScenarioPaths } = await import('../../scenarios/paths.js');
      if (opts.scenario) checkScenarioPaths(loadScenarioFile(opts.scenario));
      // Without --scenario: the newest pipeline run's suite (its best learned policy first), else the IDM demo.
      const { defaultScenario } = await import('../../renderer/server/default-scenario.js');
      const dflt = opts.scenario ? null : defaultScenario(process.cwd(), join(SHIPPED_SCENARIOS, 'demo.json'));
      const scenario = opts.scenario ?? dflt!.file;
      if (dflt && !opts.json) say(dflt.message);
      // The page lists the shipped scenarios, the run's and the one given here.
      const scenarioDirs = [SHIPPED_SCENARIOS, ...(dflt?.run ? [dflt.run] : [])];
      const { electronBinary, prepareElectronFiles, spawnElectron } = await import('../../renderer/electron/launch.js');
      const electron = electronBinary();
      if (electron.available && !opts.browser) {
        const outDir = resolve('out', 'electron');
        const { webDir, preloadPath } = await prepareElectronFiles(outDir);
        const child = spawnElectron(electron.path!, { rootDir: process.cwd(), scenarioDirs, scenario, webDir, preloadPath });
        const code = await new Promise<number>((done) => child.on('exit', (c) => done(c ?? 0)));
        if (code !== 0) process.exitCode = code;
        return;
      }
      const { ViewerService } = await import('../../renderer/server/viewer-service.js');
      const { createScenarioSource } = await import('../../renderer/server/scenario-source.js');
      const { startViewerServer } = await import('../../renderer/server/http-server.js');
      const service = new ViewerService({ scenarioDirs, initialFile: scenario, createSource: createScenarioSource });
      const server = await startViewerServer(service, opts.port);
      if (opts.json) printJson({ mode: 'browser', url: server.url, port: server.port, scenario, defaultFrom: dflt ? dflt.run : undefined, electron: electron.why });
      else {
        say(`viewer at ${server.url}  (${electron.available ? '--browser given' : `no Electron: ${electron.why}`}; Ctrl+C to stop)`);
      }
      if (opts.open) openInBrowser(server.url);
      await waitForSignal();
      await server.close();
    });
}
