import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawReadout } from '../../src/domain/types';
import { type FaultProfile, INSTRUMENT_OFFLINE, type LabDriver, LabFault } from '../../src/lab/driver';
import { LabStore } from '../../src/lab/lab-store';
import { wellForIndex } from '../../src/lab/plate';
import { type WellPlan, biologyOf, keysOf, labWith, NO_FAULTS, runWell, tempDbPath } from './fixtures';

/** The noise seed of every lab here: the faulty and the clean lab must draw the same biology. */
const NOISE_SEED = 9;
const open: LabDriver[] = [];
/** A lab on a fresh (or the given) file whose profile has NOISE_SEED and these faults (none by default). */
function newLab(dbPath = tempDbPath(), faults: FaultProfile = NO_FAULTS): LabDriver {
  const lab = labWith(dbPath, { noiseSeed: NOISE_SEED, faults });
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

const faultsOn = (instruments: FaultProfile['instruments']): FaultProfile => ({
  contaminationRate: 0,
  transientErrorRate: 0,
  instruments,
});

const plan = (i: number, overrides: Partial<WellPlan> = {}): WellPlan => ({
  plateId: 'faults',
  well: wellForIndex(i),
  cellLine: 'U2OS',
  compound: i % 3 === 0 ? '' : 'staurosporine',
  doseMicromolar: i % 3 === 0 ? 0 : 0.05 * i,
  assay: 'viability',
  ...overrides,
});

/** Runs a well, retrying each step with the next attempt number while it fails transiently. */
async function runWellWithRetries(lab: LabDriver, p: WellPlan): Promise<{ readout: RawReadout; failures: LabFault[] }> {
  const keys = keysOf(p);
  const location = { plateId: p.plateId, well: p.well };
  const failures: LabFault[] = [];
  const retry = async <T>(run: (attempt: number) => Promise<T>): Promise<T> => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      try {
        return await run(attempt);
      } catch (err) {
        if (!(err instanceof LabFault) || err.permanent || err.type === INSTRUMENT_OFFLINE) throw err;
        failures.push(err);
      }
    }
    throw new Error('still failing after 20 attempts');
  };
  await retry((attempt) =>
    lab.seed({
      operationKey: keys.seed,
      location,
      cellLine: p.cellLine,
      cellsPerWell: 10_000,
      volumeMicrolitres: 100,
      attempt,
      plateLabel: p.plateLabel,
    }),
  );
  await retry((attempt) =>
    lab.dose({
      operationKey: keys.dose,
      location,
      compound: p.compound,
      doseMicromolar: p.doseMicromolar,
      volumeMicrolitres: 10,
      attachmentHours: 4,
      attempt,
    }),
  );
  const readout = await retry((attempt) =>
    lab.read({ operationKey: keys.read, location, assay: p.assay, treatmentHours: 24, attempt }),
  );
  return { readout, failures };
}

describe('logical plates', () => {
  it('reads identical numbers on a new physical plate when the plate label is the same', async () => {
    const first = await Promise.all(
      [0, 1, 2, 3].map((i) => runWell(newLab(), plan(i, { plateId: 'run1-p001', plateLabel: 'screen/p001' }))),
    );
    const rerun = await Promise.all(
      [0, 1, 2, 3].map((i) => runWell(newLab(), plan(i, { plateId: 'run2-p001', plateLabel: 'screen/p001' }))),
    );
    expect(rerun).toEqual(first);
    const otherPlate = await runWell(newLab(), plan(1, { plateId: 'run2-p001', plateLabel: 'screen/p002' }));
    expect(otherPlate.signal).not.toEqual(first[1]!.signal);
  });

  it('keys the noise by the plate id when no plate label is given, as lab files written before labels did', async () => {
    const byPlate = await runWell(newLab(), plan(2, { plateId: 'legacy' }));
    const byKey = await runWell(newLab(), plan(2, { plateId: 'other', plateLabel: 'legacy' }));
    expect(byKey).toEqual(byPlate);
  });

  it('opens a lab file created before noise keys existed and keeps its wells readable', async () => {
    const dbPath = tempDbPath();
    inspect(dbPath, () => undefined);
    // Recreate the old wells table (no noise_key column) with one seeded, dosed well in it.
    const db = new Database(dbPath);
    db.exec('DROP TABLE wells');
    db.exec(`CREATE TABLE wells (
      plate_id TEXT NOT NULL, well TEXT NOT NULL, lab_seed INTEGER NOT NULL, cell_line TEXT NOT NULL,
      cells_seeded REAL NOT NULL, volume_microlitres REAL NOT NULL, biology_json TEXT NOT NULL, faults_json TEXT NOT NULL,
      seeded_at TEXT NOT NULL, compound TEXT, dose_micromolar REAL, delivered_dose_micromolar REAL, fraction_alive REAL,
      response_json TEXT, attachment_hours REAL, dosed_at TEXT, read_count INTEGER NOT NULL DEFAULT 0,
      lysed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (plate_id, well))`);
    db.prepare(
      `INSERT INTO wells VALUES ('old', 'B2', 1, 'U2OS', 10000, 110, ?, '{"contaminationRate":0,"transientErrorRate":0}',
        'then', '', 0, 0, 1, NULL, 4, 'then', 0, 0)`,
    ).run(JSON.stringify(biologyOf('U2OS')));
    db.close();
    const lab = newLab(dbPath);
    const readout = await lab.read({
      operationKey: 'old/read',
      location: { plateId: 'old', well: 'B2' },
      assay: 'viability',
      treatmentHours: 24,
      attempt: 1,
    });
    expect(readout.signal).toBeGreaterThan(0);
    expect(inspect(dbPath, (s) => s.getWell({ plateId: 'old', well: 'B2' })?.noiseKey)).toBe('old');
  });
});

describe('instrument faults', () => {
  it('fails attempts transiently on the faulty instrument only, logs each, and changes no readout', async () => {
    const dbPath = tempDbPath();
    const faulty = newLab(dbPath, faultsOn({ 'plate-reader': { transientErrorRate: 0.5 } }));
    const clean = newLab();
    let failures: LabFault[] = [];
    for (let i = 0; i < 8; i++) {
      const withFaults = await runWellWithRetries(faulty, plan(i));
      const without = await runWell(clean, plan(i));
      expect(withFaults.readout).toEqual(without);
      failures = failures.concat(withFaults.failures);
    }
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures)
      expect(f).toMatchObject({ type: 'InstrumentFault', permanent: false, instrument: 'plate reader' });
    const logged = inspect(dbPath, (s) => s.listFaults());
    expect(logged).toHaveLength(failures.length);
    expect(logged.every((f) => f.kind === 'transient' && f.instrument === 'plate-reader')).toBe(true);
    // Failed attempts did nothing physical: one read per well.
    expect(inspect(dbPath, (s) => s.operationCounts()).every((c) => c.count === 1)).toBe(true);
  });

  it('draws the same faults for the same seed, operation key and attempt in any lab file', async () => {
    const faults = faultsOn({ 'liquid-handler': { transientErrorRate: 0.4 }, incubator: { transientErrorRate: 0.2 } });
    const failuresIn = async () => {
      const lab = newLab(tempDbPath(), faults);
      const out: string[] = [];
      for (let i = 0; i < 6; i++) out.push(...(await runWellWithRetries(lab, plan(i))).failures.map((f) => f.message));
      return out;
    };
    const first = await failuresIn();
    expect(first.length).toBeGreaterThan(0);
    expect(await failuresIn()).toEqual(first);
  });

  it('delays an attempt by a latency spike and still reads the same numbers', async () => {
    const dbPath = tempDbPath();
    const lab = newLab(dbPath, faultsOn({ 'liquid-handler': { latencySpikeRate: 1, latencySpikeMs: 150 } }));
    const started = Date.now();
    const { readout } = await runWellWithRetries(lab, plan(1));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300); // seed and dose each waited
    expect(readout).toEqual(await runWell(newLab(), plan(1)));
    expect(inspect(dbPath, (s) => s.faultCounts())).toEqual({ 'latency spike': 2 });
  });

  it('reports a hung attempt unresponsive, does nothing physical, then fails it as transient', async () => {
    const dbPath = tempDbPath();
    const lab = newLab(dbPath, faultsOn({ 'liquid-handler': { hangRate: 0.9, hangMs: 400 } }));
    const p = plan(1);
    const key = keysOf(p).seed;
    // Find an attempt the draw hangs (rate 0.9: almost any).
    const seeding = lab.seed({
      operationKey: key,
      location: p,
      cellLine: p.cellLine,
      cellsPerWell: 10_000,
      volumeMicrolitres: 100,
      attempt: 1,
    });
    const outcome = seeding.catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    expect(lab.responsive?.({ operationKey: key, attempt: 1 })).toBe(false);
    expect(lab.responsive?.({ operationKey: key, attempt: 2 })).toBe(true);
    expect(inspect(dbPath, (s) => s.getWell(p))).toBeUndefined();
    expect(await outcome).toMatchObject({ type: 'InstrumentHung', permanent: false, instrument: 'liquid handler' });
    expect(lab.responsive?.({ operationKey: key, attempt: 1 })).toBe(true);
    expect(inspect(dbPath, (s) => s.listOperations())).toEqual([]);
    expect(inspect(dbPath, (s) => s.faultCounts()).hang).toBe(1);
  });

  it('takes an instrument offline for a while: every operation on it is refused until it is back', async () => {
    const dbPath = tempDbPath();
    const lab = newLab(dbPath, faultsOn({ 'plate-reader': { offlineRate: 0.5, offlineSeconds: 0.6 } }));
    const wells = [0, 1, 2, 3, 4, 5].map((i) => plan(i));
    for (const p of wells) {
      await lab.seed({
        operationKey: keysOf(p).seed,
        location: p,
        cellLine: p.cellLine,
        cellsPerWell: 10_000,
        volumeMicrolitres: 100,
        attempt: 1,
      });
      await lab.dose({
        operationKey: keysOf(p).dose,
        location: p,
        compound: '',
        doseMicromolar: 0,
        volumeMicrolitres: 10,
        attachmentHours: 4,
        attempt: 1,
      });
    }
    const read = (p: WellPlan, attempt: number) =>
      lab.read({ operationKey: keysOf(p).read, location: p, assay: 'viability', treatmentHours: 24, attempt });
    let offline: unknown;
    for (let attempt = 1; attempt <= 10 && !offline; attempt++)
      offline = await read(wells[0]!, attempt).then(
        () => undefined,
        (e) => e,
      );
    expect(offline).toMatchObject({ type: INSTRUMENT_OFFLINE, instrument: 'plate reader', permanent: false });
    // The other wells find the reader offline too, whatever their own draws.
    for (const p of wells.slice(1)) await expect(read(p, 1)).rejects.toMatchObject({ type: INSTRUMENT_OFFLINE });
    expect(inspect(dbPath, (s) => s.outages().map((o) => o.instrument))).toEqual(['plate-reader']);
    await new Promise((r) => setTimeout(r, 700));
    expect(inspect(dbPath, (s) => s.outages())).toEqual([]);
    const counts = inspect(dbPath, (s) => s.faultCounts());
    expect(counts['went offline']).toBe(1);
    expect(counts['offline refusal']).toBe(5);
  });

  it('refuses operations on an instrument a person switched off, but answers operations that already ran', async () => {
    const dbPath = tempDbPath();
    const lab = newLab(dbPath);
    const p = plan(4);
    const before = await runWell(lab, p);
    inspect(dbPath, (s) => s.setOffline('liquid-handler', { reason: 'maintenance' }));
    await expect(runWell(lab, plan(5))).rejects.toMatchObject({
      type: INSTRUMENT_OFFLINE,
      instrument: 'liquid handler',
      message: expect.stringContaining('maintenance'),
    });
    // A retried read whose first attempt already ran is answered from the log, even with the instrument off.
    inspect(dbPath, (s) => s.setOffline('plate-reader', { reason: 'lamp change' }));
    const again = await lab.read({
      operationKey: keysOf(p).read,
      location: p,
      assay: 'viability',
      treatmentHours: 24,
      attempt: 2,
    });
    expect(again).toEqual(before);
    inspect(dbPath, (s) => {
      s.setOnline('liquid-handler');
      s.setOnline('plate-reader');
    });
    await expect(runWell(lab, plan(5))).resolves.toMatchObject({ assay: 'viability' });
  });

  it('drops a whole plate: every well fails at the same step with PlateDropped, logged once per well', async () => {
    const dbPath = tempDbPath();
    const lab = newLab(dbPath, faultsOn({ 'plate-reader': { plateDropRate: 1 } }));
    const errors = await Promise.all(
      [0, 1, 2].map((i) => runWell(lab, plan(i, { plateLabel: 'dropped/p001' })).catch((e: unknown) => e)),
    );
    for (const e of errors)
      expect(e).toMatchObject({
        type: 'PlateDropped',
        permanent: true,
        message: expect.stringContaining('plate reader'),
      });
    const reads = inspect(dbPath, (s) => s.listOperations({ kind: 'read' }));
    expect(reads).toHaveLength(3);
    expect(reads.every((r) => r.status === 'failed')).toBe(true);
    expect(inspect(dbPath, (s) => s.faultCounts())).toEqual({ 'plate drop': 3 });
  });

  it('drops the same plates when a campaign is rerun with the same seed on new plates', async () => {
    const faults = faultsOn({ 'liquid-handler': { plateDropRate: 0.3 } });
    const fates = async (prefix: string) => {
      const lab = newLab(tempDbPath(), faults);
      const out: string[] = [];
      for (let p = 0; p < 10; p++) {
        const outcome = await runWell(lab, plan(1, { plateId: `${prefix}-p${p}`, plateLabel: `screen/p${p}` })).then(
          () => 'ok',
          (e: LabFault) => e.type,
        );
        out.push(outcome);
      }
      return out;
    };
    const first = await fates('run1');
    expect(first).toContain('PlateDropped');
    expect(first).toContain('ok');
    expect(await fates('run2')).toEqual(first);
  });
});

describe('the lab-instrument script', () => {
  const run = promisify(execFile);
  const script = join(import.meta.dirname, '..', '..', 'scripts', 'lab-instrument.ts');
  const cellos = (dbPath: string, ...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', script, ...args, '--db', dbPath]).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it('switches an instrument off and on by name, and refuses an unknown one', async () => {
    const dbPath = tempDbPath();
    expect((await cellos(dbPath, 'offline', 'plate reader', '--reason', 'lamp change')).stdout).toMatch(
      /plate reader is offline until switched on/,
    );
    expect(inspect(dbPath, (s) => s.outage('plate-reader'))).toMatchObject({ reason: 'lamp change' });
    expect((await cellos(dbPath, 'status')).stdout).toMatch(/plate reader: offline since .*lamp change/);
    expect((await cellos(dbPath, 'online', 'plate-reader')).stdout).toMatch(/back online/);
    expect(inspect(dbPath, (s) => s.outages())).toEqual([]);
    const bad = await cellos(dbPath, 'offline', 'microscope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown instrument "microscope"; allowed: liquid-handler/);
  });
});
