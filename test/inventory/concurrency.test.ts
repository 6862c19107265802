import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, openStore, stockWith, tempDbPath } from './fixtures';

afterEach(closeAll);

const run = promisify(execFile);
const script = join(import.meta.dirname, 'scripts', 'consume-in-process.ts');

/** Runs one consumer process per experiment list, all starting at the same instant; returns their reports. */
async function consumeInProcesses(dbPath: string, lists: string[][]): Promise<Record<string, unknown>[]> {
  const startAt = Date.now() + 2_500; // after every process has loaded tsx and opened the file
  const outputs = await Promise.all(
    lists.map((experiments) =>
      run(process.execPath, ['--import', 'tsx', script, dbPath, String(startAt), JSON.stringify(experiments)], {
        cwd: join(import.meta.dirname, '..', '..'),
      }),
    ),
  );
  return outputs.map((o) => JSON.parse(o.stdout) as Record<string, unknown>);
}

/** The same list in a different order per process: rotated, and reversed for odd processes. */
function orderFor(process: number, ids: string[]): string[] {
  const shift = (process * 37) % ids.length;
  const rotated = [...ids.slice(shift), ...ids.slice(0, shift)];
  return process % 2 ? rotated.reverse() : rotated;
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}/e${i}`);

describe('consumers in several processes on one lab file', () => {
  it('draws each operation key once, and every process gets the same receipt for it', async () => {
    const dbPath = tempDbPath();
    const store = openStore(dbPath);
    const shared = ids('campaign-a', 150);
    const reports = await consumeInProcesses(
      dbPath,
      [0, 1, 2, 3].map((p) => orderFor(p, shared)),
    );
    for (const report of reports.slice(1)) expect(report).toEqual(reports[0]);
    expect(Object.values(reports[0]!).every((r) => r !== 'out of stock')).toBe(true);
    const tipRows = store.ledger().filter((e) => e.item === 'tips');
    expect(tipRows).toHaveLength(150);
    expect(new Set(tipRows.map((e) => e.operationKey)).size).toBe(150);
    expect(store.getItem('tips')?.level).toBe(4_800 - 150);
    expect(store.getItem('viability-reagent')?.level).toBe(1_000 - 150);
  });

  it('never overdraws scarce stock under concurrent consumers: exactly the stock is drawn, the rest is out', async () => {
    const dbPath = tempDbPath();
    const store = openStore(dbPath, stockWith({ tips: 100 }));
    const shared = ids('shared', 120);
    // Each process interleaves the shared experiments with 40 of its own.
    const lists = [0, 1, 2, 3].map((p) => {
      const own = ids(`own${p}`, 40);
      return orderFor(p, shared).flatMap((id, i) => (i % 3 === 0 && own[i / 3] ? [id, own[i / 3]!] : [id]));
    });
    const reports = await consumeInProcesses(dbPath, lists);

    const drawn = store.ledger().filter((e) => e.item === 'tips');
    expect(drawn).toHaveLength(100); // 280 distinct requests, 100 tips
    expect(store.getItem('tips')?.level).toBe(0);
    expect(store.getItem('viability-reagent')?.level).toBe(1_000 - 100); // all or nothing per step
    const drawnKeys = new Set(drawn.map((e) => e.operationKey));
    expect(drawnKeys.size).toBe(100);
    const served = new Map<string, unknown>();
    for (const report of reports)
      for (const [key, result] of Object.entries(report)) {
        if (result === 'out of stock') continue;
        expect(drawnKeys.has(key)).toBe(true);
        if (served.has(key)) expect(result).toEqual(served.get(key)); // a repeat got the first receipt
        served.set(key, result);
      }
    expect(served.size).toBe(100);
    // The processes really overlapped: more than one of them got its own experiments served.
    const withOwnServed = reports.filter((r) =>
      Object.entries(r).some(([k, v]) => k.startsWith('own') && v !== 'out of stock'),
    );
    expect(withOwnServed.length).toBeGreaterThanOrEqual(2);
  });
});
