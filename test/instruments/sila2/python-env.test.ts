import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureSila2Venv, SILA2_READER_DIR } from '../../../src/instruments/sila2/python-env';

/** The lock and marker logic, without building a venv (that takes a minute; the reader test does it). */
const requirementsSha256 = createHash('sha256')
  .update(readFileSync(join(SILA2_READER_DIR, 'requirements.txt'), 'utf8'))
  .digest('hex');
const markReady = (dir: string) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.cellos-ready'), JSON.stringify({ requirementsSha256, python: 'test' }));
};

let scratch: string | undefined;
afterEach(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('SiLA 2 venv creation', () => {
  it('reuses a venv built from the same requirements without starting Python', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'cellos-venv-'));
    const dir = join(scratch, 'venv');
    markReady(dir);
    const venv = await ensureSila2Venv({ venvDir: dir, python: '/nonexistent/python' });
    expect(venv).toMatchObject({ dir, python: join(dir, 'bin', 'python'), created: false });
  });

  it('waits for a concurrent builder holding the lock instead of building a second time', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'cellos-venv-'));
    const dir = join(scratch, 'venv');
    // A live builder (this process) holds the lock; it finishes after a second.
    writeFileSync(`${dir}.lock`, String(process.pid));
    setTimeout(() => {
      markReady(dir);
      rmSync(`${dir}.lock`);
    }, 1_000);
    const venv = await ensureSila2Venv({ venvDir: dir, python: '/nonexistent/python', timeoutMs: 30_000 });
    expect(venv.created).toBe(false);
    expect(venv.elapsedMs).toBeGreaterThanOrEqual(900);
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it('gives up on a builder that holds the lock too long, naming the lock', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'cellos-venv-'));
    const dir = join(scratch, 'venv');
    writeFileSync(`${dir}.lock`, String(process.pid));
    await expect(ensureSila2Venv({ venvDir: dir, python: '/nonexistent/python', timeoutMs: 600 })).rejects.toThrow(
      `${dir}.lock`,
    );
  });
});

describe('SiLA 2 venv lock', () => {
  it('takes over the lock of a builder that died, and releases it', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'cellos-venv-'));
    const dir = join(scratch, 'venv');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(`${dir}.lock`, String(dead));
    // It gets as far as choosing an interpreter, which this test makes fail, so nothing is built.
    await expect(ensureSila2Venv({ venvDir: dir, python: '/nonexistent/python', timeoutMs: 30_000 })).rejects.toThrow(
      'no Python >= 3.10 found',
    );
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });
});
