import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { LAB_FILE_UNHEALTHY } from '../../src/domain/failures';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { checkLabFile, isFileError, labFileInterceptor } from '../../src/workers/lab-file-health';

const dir = () => mkdtempSync(join(tmpdir(), 'cellos-lab-health-'));

function healthyFile(): string {
  const path = join(dir(), 'lab.db');
  InventoryStore.open(path).close();
  return path;
}

/** A real lab file with its table pages overwritten by noise, as a failing disk leaves one. */
function corruptedFile(): string {
  const path = join(dir(), 'lab.db');
  const db = new Database(path);
  db.pragma('journal_mode = DELETE');
  db.exec('CREATE TABLE history (id INTEGER PRIMARY KEY, note TEXT); CREATE INDEX history_note ON history (note)');
  const insert = db.prepare('INSERT INTO history (note) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(`operation ${i} `.repeat(8));
  })();
  db.close();
  const fd = openSync(path, 'r+');
  const noise = Buffer.alloc(4096 * 6, 0x5a);
  writeSync(fd, noise, 0, noise.length, 4096 * 4);
  closeSync(fd);
  return path;
}

async function failing(err: unknown, guard: ReturnType<typeof labFileInterceptor>) {
  // One activity execution (a fresh inbound interceptor, as the worker makes per activity).
  const inbound = guard({} as never).inbound!;
  return inbound.execute!({ args: [], headers: {} } as unknown as ActivityExecuteInput, () => Promise.reject(err)).then(
    () => undefined,
    (e: unknown) => e,
  );
}

const ioError = () => Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_READ' });

describe('the lab file check', () => {
  it('passes a healthy lab file, and one that does not exist yet', () => {
    expect(checkLabFile(healthyFile())).toEqual({ ok: true });
    expect(checkLabFile(join(dir(), 'not-yet.db'))).toEqual({ ok: true });
  });

  it('names what is wrong with a file that is not a database', () => {
    const path = join(dir(), 'lab.db');
    writeFileSync(path, 'this is a spreadsheet, not a lab file'.repeat(200));
    const health = checkLabFile(path);
    expect(health.ok).toBe(false);
    expect(!health.ok && health.problem).toMatch(/not a database/);
  });

  it('finds damaged pages in a real lab file', () => {
    const health = checkLabFile(corruptedFile());
    expect(health.ok).toBe(false);
    expect(!health.ok && health.problem).toMatch(/malformed|corrupt|quick_check/i);
  });

  it('tells file errors from other failures', () => {
    expect(isFileError(ioError())).toBe(true);
    expect(isFileError(Object.assign(new Error('x'), { code: 'SQLITE_CORRUPT' }))).toBe(true);
    expect(isFileError(new Error('wrapped', { cause: ioError() }))).toBe(true);
    expect(isFileError(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))).toBe(false);
    expect(isFileError(new Error('plate dropped'))).toBe(false);
  });
});

describe('the lab worker on an I/O error', () => {
  it('turns it into a retryable LabFileUnhealthy failure naming the file, and stops taking tasks once', async () => {
    const path = corruptedFile();
    const stops: string[] = [];
    const guard = labFileInterceptor({ path, onUnhealthy: (m: string) => void stops.push(m) });
    const err = await failing(ioError(), guard);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.type).toBe(LAB_FILE_UNHEALTHY);
    expect(failure.nonRetryable).toBe(false); // retried, on a worker whose file is healthy
    expect(failure.message).toContain(`lab file ${path} is damaged or unreadable`);
    expect(failure.message).toMatch(/stopped taking tasks/);
    expect(stops).toHaveLength(1);
    await failing(ioError(), guard);
    expect(stops).toHaveLength(1);
  });

  it('passes other failures through unchanged, and an I/O error on a healthy file too', async () => {
    const stops: string[] = [];
    const guard = labFileInterceptor({ path: healthyFile(), onUnhealthy: (m: string) => void stops.push(m) });
    const other = new Error('plate dropped');
    expect(await failing(other, guard)).toBe(other);
    const transient = ioError();
    expect(await failing(transient, guard)).toBe(transient);
    expect(stops).toEqual([]);
  });

  it('refuses to start on a damaged file: one error line naming the file, exit 1, no stack trace', () => {
    const path = corruptedFile();
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/workers/lab.ts'], {
      env: { ...process.env, CELLOS_LAB_DB: path, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`^error: lab file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged`),
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe('');
  }, 60_000);
});
