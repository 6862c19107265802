import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Python the vendor's analyzer runs in: a git-ignored venv at `.tools/opentrons-venv/` with
 * `opentrons==10.1.0` (Flex only, Python ≥ 3.12), made on first use by this code so a fresh clone
 * needs nothing but a Python 3.12. Creation is idempotent (a ready marker names the pin; a venv
 * without it is half-made and is made again) and serialised by a lock file, so test files or
 * workers that race do it once.
 */

export const OPENTRONS_VERSION = '10.1.0';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const LOCK_STALE_MS = 15 * 60_000;

export interface OpentronsVenv {
  /** The venv's python executable. */
  python: string;
  dir: string;
  /** Seconds spent creating it in this call (0 when it was already there). */
  createdInSeconds: number;
}

export interface VenvOptions {
  /** Defaults to `<project>/.tools/opentrons-venv`. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** Python 3.12: `CELLOS_PYTHON312`, else `python3.12` on PATH, else pyenv's 3.12.x. */
export function findPython312(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.CELLOS_PYTHON312;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CELLOS_PYTHON312=${fromEnv} does not exist`);
    return fromEnv;
  }
  for (const folder of (env.PATH ?? '').split(':')) {
    if (!folder) continue;
    const candidate = join(folder, 'python3.12');
    if (existsSync(candidate) && !folder.includes('.pyenv/shims')) return candidate;
  }
  const pyenv = join(env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions');
  if (existsSync(pyenv)) {
    const versions = readdirSync(pyenv)
      .filter((v) => /^3\.12(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b.split('.')[2] ?? 0) - Number(a.split('.')[2] ?? 0));
    for (const v of versions) {
      const candidate = join(pyenv, v, 'bin', 'python3.12');
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error(
    'no Python 3.12 found (opentrons 10.1.0 needs Python ≥ 3.12): set CELLOS_PYTHON312, put python3.12 ' +
      'on PATH, or install 3.12 with pyenv',
  );
}

export function defaultVenvDir(): string {
  return join(PROJECT_ROOT, '.tools', 'opentrons-venv');
}

function readyMarker(dir: string): string {
  return join(dir, 'cellos-ready.json');
}

function isReady(dir: string): boolean {
  try {
    const marker = JSON.parse(readFileSync(readyMarker(dir), 'utf8')) as { opentrons?: string };
    return marker.opentrons === OPENTRONS_VERSION && existsSync(join(dir, 'bin', 'python'));
  } catch {
    return false;
  }
}

export async function ensureOpentronsVenv(options: VenvOptions = {}): Promise<OpentronsVenv> {
  const dir = options.dir ?? defaultVenvDir();
  const python = join(dir, 'bin', 'python');
  if (isReady(dir)) return { python, dir, createdInSeconds: 0 };
  const lock = `${dir}.lock`;
  mkdirSync(dirname(dir), { recursive: true });
  await acquireLock(lock);
  try {
    // Another process may have finished it while this one waited for the lock.
    if (isReady(dir)) return { python, dir, createdInSeconds: 0 };
    const started = Date.now();
    const base = findPython312(options.env);
    options.log?.(`creating ${dir} with ${base} and opentrons==${OPENTRONS_VERSION}`);
    rmSync(dir, { recursive: true, force: true });
    await run(base, ['-m', 'venv', dir], options.env);
    await run(
      python,
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', `opentrons==${OPENTRONS_VERSION}`],
      options.env,
    );
    writeFileSync(
      readyMarker(dir),
      JSON.stringify({ opentrons: OPENTRONS_VERSION, basePython: base, createdAt: new Date().toISOString() }) + '\n',
    );
    const createdInSeconds = (Date.now() - started) / 1000;
    options.log?.(`created ${dir} in ${createdInSeconds.toFixed(1)} s`);
    return { python, dir, createdInSeconds };
  } finally {
    rmSync(lock, { force: true });
  }
}

/** An exclusive lock file holding our pid; a lock whose holder died, or that is very old, is taken over. */
async function acquireLock(path: string): Promise<void> {
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (lockIsStale(path)) {
      rmSync(path, { force: true });
      continue;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function lockIsStale(path: string): boolean {
  try {
    const holder = Number(readFileSync(path, 'utf8'));
    if (Date.now() - statSync(path).mtimeMs > LOCK_STALE_MS) return true;
    if (!Number.isInteger(holder) || holder <= 0) return false; // being written
    try {
      process.kill(holder, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false; // vanished: the next open decides
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv | undefined): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0 ? ok() : fail(new Error(`${command} ${args.join(' ')} exited ${code}: ${output.slice(-2000)}`)),
    );
  });
}
