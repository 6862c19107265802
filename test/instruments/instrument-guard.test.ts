import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { InstrumentGuard } from '../../src/instruments/instrument-guard';

const dirs: string[] = [];
function labFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cellos-guard-'));
  dirs.push(dir);
  return join(dir, 'lab.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('instrument lease renewal', () => {
  it('renews a held lease and says so', () => {
    const guard = InstrumentGuard.open(labFile());
    guard.acquire('plate reader', 'op-1', 1, 1_000, 0);
    expect(guard.renew('plate reader', 'op-1', 1_000, 500)).toBe(true);
    expect(guard.activeLeases('plate reader', 1_400)).toHaveLength(1);
    expect(guard.renew('plate reader', 'nobody', 1_000, 500)).toBe(false);
    guard.close();
  });

  it('never throws from its timer when the lab file is busy: it reports the error and returns false', () => {
    const path = labFile();
    const guard = InstrumentGuard.open(path);
    guard.acquire('imager', 'op-1', 1, 60_000);
    // Another process holds the write lock for longer than the busy timeout.
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const errors: unknown[] = [];
    try {
      expect(guard.renew('imager', 'op-1', 60_000, Date.now(), (err) => errors.push(err))).toBe(false);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(String(errors[0])).toMatch(/busy|locked/i);
    expect(guard.renew('imager', 'op-1', 60_000)).toBe(true);
    guard.close();
  }, 20_000);

  it('never throws when the file has gone away under it, even if the reporter throws', () => {
    const guard = InstrumentGuard.open(labFile());
    guard.close();
    expect(
      guard.renew('liquid handler', 'op-1', 1_000, Date.now(), () => {
        throw new Error('reporter broke');
      }),
    ).toBe(false);
  });
});
