import { afterEach, describe, expect, it } from 'vitest';
import type { RawReadout } from '../../src/domain/types';
import { protocolIc50Micromolar } from '../../src/lab/biology';
import { type LabDriver, LabFault } from '../../src/lab/driver';
import { LabStore } from '../../src/lab/lab-store';
import { isEdge, wellForIndex } from '../../src/lab/plate';
import {
  type LabWorld,
  type WellPlan,
  biologyOf,
  keysOf,
  labWith,
  mean,
  NO_FAULTS,
  PROFILE,
  runWell,
  tempDbPath,
  withPair,
} from './fixtures';

const open: LabDriver[] = [];
/** A lab on a fresh (or the given) file, with the built-in profile changed as `world` says. */
function newLab(world: LabWorld = {}, dbPath = tempDbPath()): LabDriver {
  const lab = labWith(dbPath, world);
  open.push(lab);
  return lab;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((lab) => lab.close()));
});

/** Mean treated signal over mean vehicle signal on one plate of 30 + 30 interior wells. */
async function plateResponse(lab: LabDriver, plateId: string, plan: Omit<WellPlan, 'plateId' | 'well'>) {
  const treated: Promise<RawReadout>[] = [];
  const vehicle: Promise<RawReadout>[] = [];
  for (let i = 0; i < 30; i++) {
    treated.push(runWell(lab, { ...plan, plateId, well: wellForIndex(2 * i) }));
    vehicle.push(runWell(lab, { ...plan, plateId, well: wellForIndex(2 * i + 1), compound: '', doseMicromolar: 0 }));
  }
  const signals = async (readouts: Promise<RawReadout>[]) => (await Promise.all(readouts)).map((r) => r.signal);
  return mean(await signals(treated)) / mean(await signals(vehicle));
}

describe('virtual lab biology seen through the assays', () => {
  it.each([
    ['U2OS', 'staurosporine', 0.1, 0.68],
    ['U2OS', 'staurosporine', 1, 0.12],
    ['HEK293T', 'staurosporine', 0.1, 0.3],
    ['HEK293T', 'tunicamycin', 1, 0.44],
    ['U2OS', 'tunicamycin', 1, 0.23],
  ])(
    'reads %s × %s at %s µM as ~%s of vehicle after 24 h (DOMAIN.md sanity point)',
    async (line, compound, dose, expected) => {
      const lab = newLab();
      const response = await plateResponse(lab, `sanity-${line}-${compound}-${dose}`, {
        cellLine: line,
        compound,
        doseMicromolar: dose,
        assay: 'viability',
      });
      expect(Math.abs(response - expected)).toBeLessThanOrEqual(0.05);
    },
  );

  it('reads lower viability at every higher dose', async () => {
    const lab = newLab();
    const doses = [0.01, 0.03, 0.1, 0.3, 1, 3];
    const responses: number[] = [];
    for (const dose of doses)
      responses.push(
        await plateResponse(lab, `dose-${dose}`, {
          cellLine: 'U2OS',
          compound: 'staurosporine',
          doseMicromolar: dose,
          assay: 'viability',
        }),
      );
    for (let i = 1; i < responses.length; i++) expect(responses[i]).toBeLessThan(responses[i - 1] as number);
    expect(responses[0]).toBeGreaterThan(0.9);
    expect(responses.at(-1)).toBeLessThan(0.1);
  });

  it('grows HeLa faster than HEK293T: more vehicle cells after 48 h', async () => {
    const lab = newLab();
    const counts = async (cellLine: string) =>
      Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          runWell(lab, {
            plateId: `growth-${cellLine}`,
            well: wellForIndex(i),
            cellLine,
            compound: '',
            doseMicromolar: 0,
            assay: 'imaging',
          }),
        ),
      ).then((readouts) => mean(readouts.map((r) => r.cellCount ?? Number.NaN)));
    const hela = await counts('HeLa');
    const hek = await counts('HEK293T');
    expect(hela).toBeGreaterThan(1.1 * hek);
  });

  it('reads edge wells lower than interior wells of the same culture', async () => {
    const lab = newLab();
    const interior: number[] = [];
    const edge: number[] = [];
    for (let i = 0; i < 96; i++) {
      const well = wellForIndex(i);
      const { signal } = await runWell(lab, {
        plateId: 'edge',
        well,
        cellLine: 'HEK293T',
        compound: '',
        doseMicromolar: 0,
        assay: 'viability',
      });
      (isEdge(well) ? edge : interior).push(signal);
    }
    const ratio = mean(edge) / mean(interior);
    expect(ratio).toBeLessThan(0.93);
    expect(ratio).toBeGreaterThan(0.75);
  });

  it('reads replicate vehicle wells with the 5-7% well CV of a luminescent ATP assay', async () => {
    const lab = newLab();
    const readouts = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        runWell(lab, {
          plateId: 'cv',
          well: wellForIndex(i),
          cellLine: 'HeLa',
          compound: '',
          doseMicromolar: 0,
          assay: 'viability',
        }),
      ),
    );
    const signals = readouts.map((r) => r.signal);
    const m = mean(signals);
    const cv = Math.sqrt(mean(signals.map((s) => (s - m) ** 2))) / m;
    expect(cv).toBeGreaterThan(0.04);
    expect(cv).toBeLessThan(0.08);
  });

  it('images 3 channels × 9 sites per well and scores the phenotype by the compound’s effect', async () => {
    const lab = newLab();
    const plan = { plateId: 'imaging', cellLine: 'HeLa', compound: 'staurosporine', assay: 'imaging' as const };
    const vehicle = await runWell(lab, { ...plan, well: 'B2', compound: '', doseMicromolar: 0 });
    const high = await runWell(lab, { ...plan, well: 'B3', doseMicromolar: 10 });
    for (const readout of [vehicle, high]) {
      expect(readout.imageCount).toBe(27);
      expect(readout.signal).toBe(readout.cellCount);
    }
    expect(vehicle.phenotypeScore).toBeLessThan(0.1);
    expect(high.phenotypeScore).toBeGreaterThan(0.8);
    expect(high.cellCount as number).toBeLessThan(0.1 * (vehicle.cellCount as number));
  });
});

describe('curves stated at other treatment lengths', () => {
  it.each([24, 48, 72])(
    'reads wells dosed at the stated IC50 as half of vehicle after the curve’s reference %s h',
    async (referenceHours) => {
      // A full-range curve stated at referenceHours, for a line whose built-in curve is another one.
      const truth = { ic50Micromolar: 0.5, hillSlope: 1, top: 1, bottom: 0, referenceHours };
      const protocol = { biology: biologyOf('HEK293T'), truth, cellsSeeded: 10_000, attachmentHours: 4 };
      const ic50 = protocolIc50Micromolar({ ...protocol, treatmentHours: referenceHours });
      expect(Math.abs((ic50 as number) / truth.ic50Micromolar - 1)).toBeLessThan(0.02);
      const lab = newLab({ profile: withPair(PROFILE, 'HEK293T', 'staurosporine', truth) });
      const response = await plateResponse(lab, `reference-${referenceHours}`, {
        cellLine: 'HEK293T',
        compound: 'staurosporine',
        doseMicromolar: truth.ic50Micromolar,
        assay: 'viability',
        treatmentHours: referenceHours,
      });
      expect(Math.abs(response - 0.5)).toBeLessThanOrEqual(0.05);
    },
  );
});

describe('virtual lab determinism', () => {
  const plans: WellPlan[] = Array.from({ length: 24 }, (_, i) => ({
    plateId: `det-${i % 2}`,
    well: wellForIndex(i),
    cellLine: i % 3 === 0 ? 'HeLa' : 'U2OS',
    compound: i % 4 === 0 ? '' : 'tunicamycin',
    doseMicromolar: i % 4 === 0 ? 0 : 0.05 * (i + 1),
    assay: (['viability', 'reporter', 'imaging'] as const)[i % 3] as WellPlan['assay'],
  }));
  const world = { noiseSeed: 5 };

  it('gives identical readouts whatever order wells run in, on separate lab files, under other workflow ids', async () => {
    const inOrder = newLab(world);
    const first = new Map<string, RawReadout>();
    for (const plan of plans) first.set(`${plan.plateId}/${plan.well}`, await runWell(inOrder, plan));

    const shuffled = newLab(world);
    const order = [...plans].sort((a, b) => (a.well < b.well ? 1 : -1));
    const second = await Promise.all(order.map((plan) => runWell(shuffled, { ...plan, keyPrefix: 'other-run' })));
    order.forEach((plan, i) => expect(second[i]).toEqual(first.get(`${plan.plateId}/${plan.well}`)));
  });

  it('gives different noise under a different lab seed', async () => {
    const plan = plans[1] as WellPlan;
    const a = await runWell(newLab(world), plan);
    const again = await runWell(newLab(world), plan);
    const b = await runWell(newLab({ noiseSeed: 6 }), plan);
    expect(again).toEqual(a);
    expect(a.signal).not.toEqual(b.signal);
  });
});

describe('virtual lab faults', () => {
  const base = {
    plateId: 'faults',
    cellLine: 'HEK293T',
    compound: 'cisplatin',
    doseMicromolar: 5,
    assay: 'viability' as const,
  };

  it('finds every culture contaminated at read when the contamination rate is 1, and logs the failed read', async () => {
    const dbPath = tempDbPath();
    const lab = newLab({ faults: { contaminationRate: 1, transientErrorRate: 0 } }, dbPath);
    const plan = { ...base, well: 'C3' };
    const error = await runWell(lab, plan).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LabFault);
    expect(error).toMatchObject({ type: 'Contamination', permanent: true });
    const again = await lab
      .read({ operationKey: keysOf(plan).read, location: plan, assay: 'viability', treatmentHours: 24, attempt: 2 })
      .catch((e: unknown) => e);
    expect(again).toMatchObject({ type: 'Contamination', permanent: true });
    const store = LabStore.open(dbPath);
    const reads = store.listOperations({ kind: 'read' });
    store.close();
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ status: 'failed', result: { type: 'Contamination' } });
  });

  it('never contaminates a culture when the contamination rate is 0', async () => {
    const lab = newLab({ faults: NO_FAULTS });
    const readouts = await Promise.all(
      Array.from({ length: 60 }, (_, i) => runWell(lab, { ...base, well: wellForIndex(i) })),
    );
    expect(readouts.every((r) => r.signal > 0)).toBe(true);
  });

  it('throws retryable instrument faults that change nothing, until a later attempt succeeds', async () => {
    const dbPath = tempDbPath();
    const lab = newLab({ noiseSeed: 1, faults: { contaminationRate: 0, transientErrorRate: 0.5 } }, dbPath);
    let transientFaults = 0;
    for (let i = 0; i < 8; i++) {
      const location = { plateId: 'flaky', well: wellForIndex(i) };
      for (let attempt = 1; ; attempt++) {
        const outcome = await lab
          .seed({
            operationKey: `flaky/${location.well}:seed`,
            location,
            cellLine: 'HeLa',
            cellsPerWell: 10_000,
            volumeMicrolitres: 100,
            attempt,
          })
          .catch((e: unknown) => e);
        if (!(outcome instanceof LabFault)) break;
        expect(outcome).toMatchObject({ type: 'InstrumentFault', permanent: false });
        transientFaults++;
        const store = LabStore.open(dbPath);
        expect(store.getWell(location)).toBeUndefined();
        store.close();
      }
    }
    expect(transientFaults).toBeGreaterThan(0);
    const store = LabStore.open(dbPath);
    expect(store.listOperations({ kind: 'seed' })).toHaveLength(8);
    store.close();
  });

  it('refuses to dose a pair its profile has no response model for, naming the pair', async () => {
    const profile = withPair(PROFILE, 'U2OS', 'staurosporine', undefined);
    const dbPath = tempDbPath();
    const lab = newLab({ profile }, dbPath);
    const builtin = newLab();
    const plate = 'no-pair';
    const seed = (on: LabDriver, well: string, cellLine: string) =>
      on.seed({
        operationKey: `np/${well}:seed`,
        location: { plateId: plate, well },
        cellLine,
        cellsPerWell: 10_000,
        volumeMicrolitres: 100,
        attempt: 1,
      });
    const dose = (on: LabDriver, well: string, attempt = 1) =>
      on.dose({
        operationKey: `np/${well}:dose`,
        location: { plateId: plate, well },
        compound: 'staurosporine',
        doseMicromolar: 0.2,
        volumeMicrolitres: 10,
        attachmentHours: 4,
        attempt,
      });
    await seed(lab, 'B2', 'U2OS');
    await seed(lab, 'B3', 'HEK293T');
    for (const attempt of [1, 2]) {
      const error = await dose(lab, 'B2', attempt).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LabFault);
      expect(error).toMatchObject({ type: 'UnknownBiology', permanent: true });
      expect((error as LabFault).message).toMatch(/U2OS\b.*\bstaurosporine/);
    }
    const store = LabStore.open(dbPath);
    expect(store.getWell({ plateId: plate, well: 'B2' })?.dosedAt).toBeUndefined();
    expect(store.listOperations({ kind: 'dose' })).toEqual([]);
    store.close();
    // The compound is known for other lines of the same lab, and the built-in lab knows the pair.
    await expect(dose(lab, 'B3')).resolves.toMatchObject({ doseMicromolar: 0.2 });
    await seed(builtin, 'B2', 'U2OS');
    await expect(dose(builtin, 'B2')).resolves.toMatchObject({ doseMicromolar: 0.2 });
  });

  it('refuses to seed a cell line its profile has no biology for', async () => {
    const { iPSC: _dropped, ...cellLines } = PROFILE.cellLines;
    const lab = newLab({ profile: { ...PROFILE, cellLines } });
    const seed = (on: LabDriver) =>
      on.seed({
        operationKey: 'ul/B2:seed',
        location: { plateId: 'unknown-line', well: 'B2' },
        cellLine: 'iPSC',
        cellsPerWell: 10_000,
        volumeMicrolitres: 100,
        attempt: 1,
      });
    await expect(seed(lab)).rejects.toMatchObject({
      type: 'UnknownBiology',
      permanent: true,
      message: expect.stringContaining('iPSC'),
    });
    await expect(seed(newLab())).resolves.toMatchObject({ volumeMicrolitres: 100 });
  });

  it('refuses a compound the profile gives no response for, leaving the well undosed', async () => {
    const lab = newLab();
    const location = { plateId: 'unknown', well: 'D4' };
    await lab.seed({
      operationKey: 'u:seed',
      location,
      cellLine: 'HeLa',
      cellsPerWell: 10_000,
      volumeMicrolitres: 100,
      attempt: 1,
    });
    const dose = { location, compound: 'mystery-compound', volumeMicrolitres: 10, attachmentHours: 4, attempt: 1 };
    await expect(lab.dose({ ...dose, operationKey: 'u:dose', doseMicromolar: 1 })).rejects.toMatchObject({
      type: 'UnknownBiology',
      permanent: true,
      message: expect.stringContaining('HeLa'),
    });
    await expect(lab.dose({ ...dose, operationKey: 'u:dose2', compound: '', doseMicromolar: 0 })).resolves.toEqual({
      doseMicromolar: 0,
      volumeMicrolitres: 10,
    });
  });
});
