import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureSearchAttributes, isServing, startDevServer } from './dev-server';

/**
 * The developer's local Temporal: a dev server in the background (SQLite in var/temporal, Web UI
 * on 8233) that outlives the command that started it, so finished campaigns stay browsable. Its
 * ports are CELLOS_TEMPORAL_PORT and CELLOS_UI_PORT (or `--port` / `--ui-port`); where it really
 * is, is recorded in var/run/temporal.json, which is how the CLI's links find its Web UI.
 */
export const LOCAL_ADDRESS = '127.0.0.1:7233';
const PID_FILE = resolve('var/run/temporal.pid');
export const LOCAL_SERVER_FILE = resolve('var/run/temporal.json');

export interface LocalPorts {
  port: number;
  uiPort: number;
}

/** Ports from flags (`--port N`, `--ui-port N`), then CELLOS_TEMPORAL_PORT / CELLOS_UI_PORT, then 7233 / 8233. */
export function localPorts(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): LocalPorts {
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? (argv[i + 1] ?? '') : undefined;
  };
  const port = (text: string | undefined, what: string, fallback: number) => {
    if (text === undefined || text === '') return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > 65535)
      throw new Error(`${what}: "${text}" is not a port; give a whole number from 1 to 65535`);
    return n;
  };
  const ports = {
    port: port(flag('--port') ?? env.CELLOS_TEMPORAL_PORT, '--port / CELLOS_TEMPORAL_PORT', 7233),
    uiPort: port(flag('--ui-port') ?? env.CELLOS_UI_PORT, '--ui-port / CELLOS_UI_PORT', 8233),
  };
  if (ports.port === ports.uiPort) throw new Error(`the Temporal port and the Web UI port are both ${ports.port}`);
  return ports;
}

export function localAddress(ports: LocalPorts = localPorts()): string {
  return `127.0.0.1:${ports.port}`;
}

export async function ensureLocalServer(
  log = console.log,
  ports: LocalPorts = localPorts(),
): Promise<{ started: boolean; address: string; uiUrl: string }> {
  const address = localAddress(ports);
  const uiUrl = `http://localhost:${ports.uiPort}`;
  if (await isServing(address)) {
    const added = await ensureSearchAttributes(address, 'default');
    if (added.length > 0) log(`registered search attributes: ${added.join(', ')}`);
    return { started: false, address, uiUrl: recordedUiUrl(address) ?? uiUrl };
  }
  log(`Starting the Temporal dev server on ${address} (SQLite: var/temporal/cellos.db, Web UI: ${uiUrl}) ...`);
  const server = await startDevServer({
    port: ports.port,
    uiPort: ports.uiPort,
    dbFile: resolve('var/temporal/cellos.db'),
    logFile: resolve('var/log/temporal.log'),
    detached: true,
  });
  mkdirSync(resolve('var/run'), { recursive: true });
  writeFileSync(PID_FILE, String(server.process.pid));
  writeFileSync(LOCAL_SERVER_FILE, JSON.stringify({ address, uiUrl }));
  return { started: true, address, uiUrl };
}

/** The Web UI of the local server recorded at `address`, if this checkout started it. */
export function recordedUiUrl(address: string, file = LOCAL_SERVER_FILE): string | undefined {
  try {
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as { address?: string; uiUrl?: string };
    const port = (a: string) => a.split(':').pop();
    const local = (a: string) => /^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(a);
    return recorded.address && local(address) && port(recorded.address) === port(address) ? recorded.uiUrl : undefined;
  } catch {
    return undefined;
  }
}

export async function stopLocalServer(log = console.log): Promise<void> {
  if (!existsSync(PID_FILE)) {
    log('no dev server started by cell_OS is recorded (var/run/temporal.pid)');
    return;
  }
  const pid = Number(readFileSync(PID_FILE, 'utf8'));
  try {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 200));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    log(`stopped the Temporal dev server (pid ${pid})`);
  } catch {
    log(`the dev server (pid ${pid}) was not running`);
  }
  rmSync(PID_FILE, { force: true });
  rmSync(LOCAL_SERVER_FILE, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
