import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';

/**
 * Background processes that outlive the command that started them, found again through pid
 * files: each pid is checked against the process's command line, so a pid reused by something
 * else is never signalled.
 */
export interface Daemon {
  name: string;
  pidFile: string;
  /** A piece of the command line that identifies the process (the binary's name). */
  marker: string;
}

export function daemon(runDir: string, name: string, marker: string): Daemon {
  return { name, pidFile: join(runDir, `${name}.pid`), marker };
}

export function daemonPid(d: Daemon): number | undefined {
  if (!existsSync(d.pidFile)) return undefined;
  const pid = Number(readFileSync(d.pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(d.marker)) return undefined;
    // A zombie (killed, not yet reaped by its parent) is not running.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return undefined;
    return pid;
  } catch {
    return undefined;
  }
}

export function spawnDaemon(
  d: Daemon,
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; logFile: string; cwd?: string },
): number {
  mkdirSync(join(d.pidFile, '..'), { recursive: true });
  mkdirSync(join(options.logFile, '..'), { recursive: true });
  const log = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', log, log],
    detached: true,
  });
  closeSync(log);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${d.name} (${command})`);
  writeFileSync(d.pidFile, `${child.pid}\n`);
  return child.pid;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopDaemon(d: Daemon, graceMs = 10_000): Promise<boolean> {
  const pid = daemonPid(d);
  if (pid === undefined) {
    rmSync(d.pidFile, { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (daemonPid(d) !== undefined && Date.now() < deadline) await delay(100);
  if (daemonPid(d) !== undefined) process.kill(pid, 'SIGKILL');
  while (!exited(pid)) await delay(50);
  rmSync(d.pidFile, { force: true });
  return true;
}

/**
 * Gone for good: no such process, or a zombie. (While a process exits, its command line empties
 * before its sockets close, so an empty command line is not enough to reuse its ports.)
 */
function exited(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** kill -9: no shutdown of any kind. Resolves once the process is gone. */
export async function killDaemon(d: Daemon): Promise<number> {
  const pid = daemonPid(d);
  if (pid === undefined) throw new Error(`${d.name} is not running`);
  process.kill(pid, 'SIGKILL');
  while (!exited(pid)) await delay(20);
  return pid;
}

export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  alive?: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (alive && !alive()) throw new Error(`${what}: the process exited`);
    if (await check().catch(() => false)) return;
    await delay(250);
  }
  throw new Error(`${what}: not ready within ${timeoutMs / 1000} s`);
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
