import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type LabDriver, LabFault } from '../../src/lab/driver';
import { LabStore } from '../../src/lab/lab-store';
import { wellForIndex } from '../../src/lab/plate';
import { type WellPlan, keysOf, labWith, runWell, tempDbPath } from './fixtures';

const open: LabDriver[] = [];
function newLab(dbPath: string): LabDriver {
  const lab = labWith(dbPath, { noiseSeed: 3 });
  open.push(lab);
  return lab;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((lab) => lab.close()));
});

function inspect<T>(dbPath: string, look: (store: LabStore) => T): T {
  const store = LabStore.open(dbPath);
  try {
    return look(store);
  } finally {
    store.close();
  }
}

const location = { plateId: 'p1', well: 'C5' };
const seedRequest = (overrides: Partial<Parameters<LabDriver['seed']>[0]> = {}) => ({
  operationKey: 'wf/seed-C5',
  location,
  cellLine: 'HEK293T',
  cellsPerWell: 10_000,
  volumeMicrolitres: 100,
  attempt: 1,
  ...overrides,
});
const doseRequest = (overrides: Partial<Parameters<LabDriver['dose']>[0]> = {}) => ({
  operationKey: 'wf/dose-C5',
  location,
  compound: '',
  doseMicromolar: 0,
  volumeMicrolitres: 10,
  attachmentHours: 4,
  attempt: 1,
  ...overrides,
});
const readRequest = (overrides: Partial<Parameters<LabDriver['read']>[0]> = {}) => ({
  operationKey: 'wf/read-C5',
  location,
  assay: 'viability' as const,
  treatmentHours: 24,
  attempt: 1,
  ...overrides,
});

describe('lab store idempotency', () => {
  it('creates the parent directories of a new lab file', () => {
    const dbPath = tempDbPath();
    expect(existsSync(dirname(dbPath))).toBe(false);
    inspect(dbPath, () => undefined);
    expect(existsSync(dbPath)).toBe(true);
  });

  it('performs a repeated operation key once and answers every repeat with the first result', async () => {
    const dbPath = tempDbPath();
    const lab = newLab(dbPath);
    const seeded = await lab.seed(seedRequest());
    const dosed = await lab.dose(doseRequest());
    const read = await lab.read(readRequest());
    // Retries arrive with later attempt numbers and, after a restart, from a fresh driver.
    const again = newLab(dbPath);
    expect(await again.seed(seedRequest({ attempt: 2 }))).toEqual(seeded);
    expect(await again.dose(doseRequest({ attempt: 3 }))).toEqual(dosed);
    expect(await again.read(readRequest({ attempt: 2, treatmentHours: 72 }))).toEqual(read);
    expect(seeded.cellsSeeded).not.toBe(10_000); // pipetting noise was applied once, and stored
    expect(Math.abs(seeded.cellsSeeded / 10_000 - 1)).toBeLessThan(0.1);
    const counts = inspect(dbPath, (store) => store.operationCounts());
    expect(counts).toEqual([
      { plateId: 'p1', well: 'C5', kind: 'dose', count: 1 },
      { plateId: 'p1', well: 'C5', kind: 'read', count: 1 },
      { plateId: 'p1', well: 'C5', kind: 'seed', count: 1 },
    ]);
    expect(inspect(dbPath, (store) => store.getWell(location)?.readCount)).toBe(1);
  });

  it('keeps the operations log append-only', async () => {
    const dbPath = tempDbPath();
    const plan: WellPlan = {
      plateId: 'p',
      well: 'B2',
      cellLine: 'HeLa',
      compound: '',
      doseMicromolar: 0,
      assay: 'imaging',
    };
    await runWell(newLab(dbPath), plan);
    const db = new Database(dbPath);
    try {
      expect(() => db.prepare("UPDATE operations SET status = 'failed'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM operations').run()).toThrow(/append-only/);
    } finally {
      db.close();
    }
    expect(inspect(dbPath, (store) => store.listOperations().map((o) => o.kind))).toEqual(['seed', 'dose', 'read']);
  });
});

describe('physically impossible requests', () => {
  async function refusal(promise: Promise<unknown>): Promise<LabFault> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LabFault);
    expect(error).toMatchObject({ type: 'InvalidOperation', permanent: true });
    return error as LabFault;
  }

  it('refuses to seed an occupied well under another key', async () => {
    const lab = newLab(tempDbPath());
    await lab.seed(seedRequest());
    const fault = await refusal(lab.seed(seedRequest({ operationKey: 'other/seed', cellLine: 'HeLa' })));
    expect(fault.message).toMatch(/p1\/C5.*already holds HEK293T/);
  });

  it('refuses to dose a well that was never seeded, with a vehicle or a compound', async () => {
    const lab = newLab(tempDbPath());
    const vehicle = await refusal(lab.dose(doseRequest()));
    expect(vehicle.message).toMatch(/never seeded/);
    const compound = await refusal(
      lab.dose(doseRequest({ operationKey: 'wf/dose-C5-sts', compound: 'staurosporine', doseMicromolar: 0.1 })),
    );
    expect(compound.message).toMatch(/never seeded/);
  });

  it('refuses to dose a well twice under another key', async () => {
    const lab = newLab(tempDbPath());
    await lab.seed(seedRequest());
    await lab.dose(doseRequest());
    const fault = await refusal(lab.dose(doseRequest({ operationKey: 'other/dose', compound: 'cisplatin' })));
    expect(fault.message).toMatch(/already dosed/);
  });

  it('refuses to overfill a well beyond 200 µL, and the refused dose changes nothing', async () => {
    const dbPath = tempDbPath();
    const lab = newLab(dbPath);
    await refusal(lab.seed(seedRequest({ volumeMicrolitres: 250 })));
    await lab.seed(seedRequest({ volumeMicrolitres: 195 }));
    const fault = await refusal(lab.dose(doseRequest({ volumeMicrolitres: 10 })));
    expect(fault.message).toMatch(/holds 195 µL.*200 µL/);
    expect(inspect(dbPath, (store) => store.getWell(location)?.dosedAt)).toBeUndefined();
    await expect(lab.dose(doseRequest({ operationKey: 'fixed/dose', volumeMicrolitres: 5 }))).resolves.toEqual({
      doseMicromolar: 0,
      volumeMicrolitres: 5,
    });
  });

  it('refuses to read a well that was never dosed', async () => {
    const lab = newLab(tempDbPath());
    await lab.seed(seedRequest());
    const fault = await refusal(lab.read(readRequest()));
    expect(fault.message).toMatch(/never dosed/);
  });

  it('refuses a second lytic viability read of the same well', async () => {
    const lab = newLab(tempDbPath());
    await lab.seed(seedRequest());
    await lab.dose(doseRequest());
    await lab.read(readRequest());
    const fault = await refusal(lab.read(readRequest({ operationKey: 'other/read' })));
    expect(fault.message).toMatch(/lytic/);
  });

  it('refuses an unknown well name and names it', async () => {
    const lab = newLab(tempDbPath());
    const fault = await refusal(lab.seed(seedRequest({ location: { plateId: 'p1', well: 'J13' } })));
    expect(fault.message).toContain('"J13"');
  });

  it('refuses an operation key reused for a different operation', async () => {
    const lab = newLab(tempDbPath());
    await lab.seed(seedRequest());
    const fault = await refusal(lab.seed(seedRequest({ location: { plateId: 'p1', well: 'C6' } })));
    expect(fault.message).toMatch(/already used to seed p1\/C5/);
  });
});

describe('a lab file shared by several processes', () => {
  it('acts once per operation key when four processes race on the same wells', async () => {
    const dbPath = tempDbPath();
    const plans: WellPlan[] = Array.from({ length: 16 }, (_, i) => ({
      plateId: 'shared',
      well: wellForIndex(i),
      cellLine: 'U2OS',
      compound: i % 2 ? 'staurosporine' : '',
      doseMicromolar: i % 2 ? 0.1 * i : 0,
      assay: 'viability',
    }));
    const script = join(import.meta.dirname, 'scripts', 'run-wells-in-process.ts');
    const run = promisify(execFile);
    const outputs = await Promise.all(
      [0, 1, 2, 3].map((worker) =>
        run(process.execPath, ['--import', 'tsx', script, dbPath, String(worker), JSON.stringify(plans)], {
          cwd: join(import.meta.dirname, '..', '..'),
        }),
      ),
    );
    const results = outputs.map((o) => JSON.parse(o.stdout) as Record<string, unknown>);
    for (const other of results.slice(1)) expect(other).toEqual(results[0]);
    const counts = inspect(dbPath, (store) => store.operationCounts());
    expect(counts).toHaveLength(plans.length * 3);
    expect(counts.every((c) => c.count === 1)).toBe(true);
    expect(Object.keys(results[0] ?? {}).sort()).toEqual(plans.map((p) => keysOf(p).read).sort());
  });
});
