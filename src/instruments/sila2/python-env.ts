import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The Python environment the SiLA 2 reader server runs in: a venv under `.tools/` (git-ignored),
 * built on demand from the pinned `python/sila2-reader/requirements.txt`.
 *
 * Building takes a minute (pip resolves and unpacks grpcio, lxml, protobuf …), and two test files
 * or a test and a lab worker may ask at once, so creation holds a lock file: whoever takes it
 * builds, the others wait for its ready marker. The marker records the hash of the requirements,
 * so a changed pin rebuilds the venv instead of reusing a stale one (and a ready venv costs one
 * file read, no Python start). A
 * lock left by a killed builder (its pid gone, or older than the stale limit) is taken over.
 */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
export const SILA2_READER_DIR = join(PROJECT_ROOT, 'python', 'sila2-reader');
export const DEFAULT_VENV_DIR = join(PROJECT_ROOT, '.tools', 'sila2-venv');

/** sila2 0.14.0 declares Python >= 3.10 (and 3.11 was checked on these machines). */
const MIN_PYTHON: [number, number] = [3, 10];
const READY_MARKER = '.cellos-ready';

export interface Sila2Venv {
  dir: string;
  python: string;
  /** True when this call built it (false when it was ready, or another process built it). */
  created: boolean;
  /** Wall-clock milliseconds this call spent (building or waiting). */
  elapsedMs: number;
}

export interface EnsureVenvOptions {
  venvDir?: string;
  /** The Python interpreter to build from; else `CELLOS_SILA2_PYTHON`, `python3`, then pyenv's 3.12/3.11. */
  python?: string;
  /** Give up waiting for another builder after this long. */
  timeoutMs?: number;
  /** A lock older than this is a dead builder's. */
  staleLockMs?: number;
  log?: (line: string) => void;
}

export async function ensureSila2Venv(options: EnsureVenvOptions = {}): Promise<Sila2Venv> {
  const started = Date.now();
  const dir = resolve(options.venvDir ?? DEFAULT_VENV_DIR);
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const staleLockMs = options.staleLockMs ?? 10 * 60_000;
  const log = options.log ?? (() => undefined);
  const python = join(dir, 'bin', 'python');
  const lockPath = `${dir}.lock`;
  const requirements = readFileSync(join(SILA2_READER_DIR, 'requirements.txt'), 'utf8');
  const done = (created: boolean): Sila2Venv => ({ dir, python, created, elapsedMs: Date.now() - started });

  const stamp = createHash('sha256').update(requirements).digest('hex');
  if (readyStamp(dir) === stamp) return done(false);

  mkdirSync(join(dir, '..'), { recursive: true });
  for (;;) {
    if (tryLock(lockPath)) break;
    if (lockIsStale(lockPath, staleLockMs)) {
      log(`taking over the stale lock ${lockPath}`);
      rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`gave up after ${timeoutMs} ms waiting for another process building ${dir} (lock ${lockPath})`);
    await sleep(500);
  }
  try {
    // Another process may have finished while this one waited for the lock.
    if (readyStamp(dir) === stamp) return done(false);
    const interpreter = await findPython(options.python);
    log(`creating the SiLA 2 venv ${dir} with ${interpreter.path} (Python ${interpreter.version})`);
    rmSync(dir, { recursive: true, force: true });
    await run(interpreter.path, ['-m', 'venv', dir]);
    await run(
      python,
      [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-input',
        '--quiet',
        '-r',
        join(SILA2_READER_DIR, 'requirements.txt'),
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: Error & { stderr?: string }) => {
      throw new Error(`pip install into ${dir} failed: ${err.stderr?.trim() || err.message}`);
    });
    const marker = openSync(join(dir, READY_MARKER), 'w');
    writeSync(marker, JSON.stringify({ requirementsSha256: stamp, python: interpreter.version }));
    closeSync(marker);
    log(`SiLA 2 venv ready in ${Date.now() - started} ms`);
    return done(true);
  } finally {
    rmSync(lockPath, { force: true });
  }
}

interface Interpreter {
  path: string;
  version: string;
}

async function findPython(explicit?: string): Promise<Interpreter> {
  const pyenv = join(homedir(), '.pyenv', 'versions');
  // An interpreter asked for by name is the only one tried.
  const candidates = (
    explicit
      ? [explicit]
      : [
          process.env.CELLOS_SILA2_PYTHON,
          'python3',
          'python3.12',
          'python3.11',
          join(pyenv, '3.12.1', 'bin', 'python3'),
          join(pyenv, '3.11.7', 'bin', 'python3'),
        ]
  ).filter((c): c is string => Boolean(c));
  const seen: string[] = [];
  for (const path of candidates) {
    const version = await run(path, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])']).then(
      (r) => r.stdout.trim(),
      () => undefined,
    );
    if (!version) continue;
    const [major = 0, minor = 0] = version.split('.').map(Number);
    if (major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1])) return { path, version };
    seen.push(`${path} is ${version}`);
  }
  throw new Error(
    `no Python >= ${MIN_PYTHON.join('.')} found for the SiLA 2 reader (tried ${candidates.join(', ')}` +
      `${seen.length ? `; ${seen.join(', ')}` : ''}); set CELLOS_SILA2_PYTHON to one`,
  );
}

/** The requirements hash the venv was built from, once it is complete. */
function readyStamp(dir: string): string | undefined {
  try {
    const marker = JSON.parse(readFileSync(join(dir, READY_MARKER), 'utf8')) as { requirementsSha256?: unknown };
    return typeof marker.requirementsSha256 === 'string' ? marker.requirementsSha256 : undefined;
  } catch {
    return undefined;
  }
}

/** Creates the lock file exclusively (O_EXCL), with the holder's pid in it. */
function tryLock(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function lockIsStale(path: string, staleLockMs: number): boolean {
  if (!existsSync(path)) return false;
  try {
    if (Date.now() - statSync(path).mtimeMs > staleLockMs) return true;
    const pid = Number(readFileSync(path, 'utf8'));
    // Written just after creation: an empty lock is being written, not abandoned.
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // ESRCH: no such process, so its builder died. ENOENT: released meanwhile (retry the lock).
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ESRCH';
  }
}
