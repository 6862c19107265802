import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ensureSearchAttributes, isServing, startDevServer } from './dev-server';

/**
 * The developer's local Temporal: a dev server in the background (SQLite in var/temporal, Web UI
 * on 8233) that outlives the command that started it, so finished campaigns stay browsable.
 */
export const LOCAL_ADDRESS = '127.0.0.1:7233';
const PID_FILE = resolve('var/run/temporal.pid');

export async function ensureLocalServer(log = console.log): Promise<{ started: boolean }> {
  if (await isServing(LOCAL_ADDRESS)) {
    const added = await ensureSearchAttributes(LOCAL_ADDRESS, 'default');
    if (added.length > 0) log(`registered search attributes: ${added.join(', ')}`);
    return { started: false };
  }
  log('Starting the Temporal dev server (SQLite: var/temporal/cellos.db, Web UI: http://localhost:8233) ...');
  const server = await startDevServer({
    port: 7233,
    uiPort: 8233,
    dbFile: resolve('var/temporal/cellos.db'),
    logFile: resolve('var/log/temporal.log'),
    detached: true,
  });
  mkdirSync(resolve('var/run'), { recursive: true });
  writeFileSync(PID_FILE, String(server.process.pid));
  return { started: true };
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
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
