import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createLabActivities, type LabActivities } from '../../src/activities/lab-activities';
import { builtinLabConfig } from '../../src/config/lab-config';
import { InstrumentGuard } from '../../src/instruments/instrument-guard';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { compoundPricing } from '../../src/lab/catalogue';
import { createVirtualLab } from '../../src/lab/virtual-lab';
import { allVirtual } from '../../src/workers/lab';
import { PROFILE, tempDbPath } from '../lab/fixtures';

/**
 * Physically impossible requests, seen where Temporal sees them. A plate step answers well by well:
 * an impossible well gets its own InvalidOperation outcome (its experiment records why) and its
 * neighbours go on; a request that is wrong as a whole fails the step without retry (retrying an
 * impossible operation twelve times changes nothing). test/lab checks the driver.
 */
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function labActivities(): LabActivities {
  const dbPath = tempDbPath();
  const driver = createVirtualLab({ dbPath, profile: PROFILE });
  const guard = InstrumentGuard.open(dbPath);
  const inventory = InventoryStore.open(dbPath);
  closers.push(
    () => driver.close(),
    () => guard.close(),
    () => inventory.close(),
  );
  return createLabActivities({
    instruments: allVirtual(driver),
    guard,
    labConfig: builtinLabConfig(),
    inventory,
    pricing: (compound) => compoundPricing(PROFILE, compound),
  });
}

let activityNumber = 0;
/** Runs a plate-step activity as the first attempt of its own plate workflow. */
function asActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  activityNumber++;
  const env = new MockActivityEnvironment({
    activityId: String(activityNumber),
    activityType: fn.name,
    attempt: 1,
    workflowExecution: { workflowId: `campaign-refusals/plate-${activityNumber}`, runId: 'run-1' },
  });
  return env.run(fn, ...args);
}

const plateId = 'refusals-p001';
const common = { secondsPerLabHour: 0, campaignId: 'campaign-refusals', plateId, assay: 'viability' as const };
const seedWell = (well: string, overrides: Record<string, unknown> = {}) => ({
  well,
  experimentWorkflowId: `campaign-refusals/${well}`,
  cellLine: 'U2OS',
  cellsPerWell: 10_000,
  volumeMicrolitres: 100,
  ...overrides,
});
const doseWell = (well: string, overrides: Record<string, unknown> = {}) => ({
  well,
  experimentWorkflowId: `campaign-refusals/${well}`,
  compound: 'staurosporine',
  doseMicromolar: 1,
  volumeMicrolitres: 10,
  ...overrides,
});
const seedPlate = (lab: LabActivities, wells: ReturnType<typeof seedWell>[], id = plateId) =>
  asActivity(lab.seedPlate, { ...common, plateId: id, plateLabel: id, wells });
const dosePlate = (lab: LabActivities, wells: ReturnType<typeof doseWell>[], id = plateId) =>
  asActivity(lab.dosePlate, { ...common, plateId: id, attachmentHours: 4, wells });
const readPlate = (lab: LabActivities, wells: string[], id = plateId) =>
  asActivity(lab.readPlate, {
    ...common,
    plateId: id,
    treatmentHours: 24,
    wells: wells.map((well) => ({ well, experimentWorkflowId: `campaign-refusals/${well}` })),
  });

/** The plate step succeeded as a whole; each named well has its expected outcome. */
function expectWells(
  report: { wells: { well: string; ok: boolean; failure?: { type: string; message: string } }[] },
  expected: Record<string, true | RegExp>,
): void {
  expect(report.wells.map((w) => w.well).sort()).toEqual(Object.keys(expected).sort());
  for (const w of report.wells) {
    const want = expected[w.well]!;
    if (want === true) expect(w, w.well).toMatchObject({ ok: true });
    else {
      expect(w, w.well).toMatchObject({ ok: false, failure: { type: 'InvalidOperation' } });
      expect(w.failure!.message).toMatch(want);
    }
  }
}

describe('the plate-step activities refuse impossible wells, each in its own outcome, without failing the plate', () => {
  it('refuses to dose wells that were never seeded and to read wells never dosed', async () => {
    const lab = labActivities();
    expectWells(await dosePlate(lab, [doseWell('B2')]), { B2: /never seeded/ });
    expectWells(await seedPlate(lab, [seedWell('B3')], 'refusals-p002'), { B3: true });
    expectWells(await readPlate(lab, ['B3', 'B4'], 'refusals-p002'), { B3: /never dosed/, B4: /never seeded/ });
  });

  it('refuses to overfill a well, at seeding and at dosing, while its neighbours go on', async () => {
    const lab = labActivities();
    expectWells(
      await seedPlate(lab, [seedWell('B2', { volumeMicrolitres: 250 }), seedWell('B3', { volumeMicrolitres: 195 })]),
      { B2: /working volume is 200 µL/, B3: true },
    );
    expectWells(await dosePlate(lab, [doseWell('B3')]), { B3: /holds 195 µL/ });
  });

  it('runs each plate step once: a repeated step returns its first outcome and changes nothing', async () => {
    const lab = labActivities();
    const first = await seedPlate(lab, [seedWell('B2')]);
    const again = await seedPlate(lab, [seedWell('B2', { cellLine: 'HeLa' })]);
    expect(again.wells).toEqual(first.wells);
    expectWells(await dosePlate(lab, [doseWell('B2')]), { B2: true });
    const read1 = await readPlate(lab, ['B2']);
    const read2 = await readPlate(lab, ['B2']);
    expect(read2.wells).toEqual(read1.wells);
    expect(read1.wells[0]).toMatchObject({ ok: true });
  });

  it('refuses nonsense quantities well by well: no cells, unknown wells, negative or NaN doses', async () => {
    const lab = labActivities();
    expectWells(
      await seedPlate(lab, [
        seedWell('B2', { cellsPerWell: 0 }),
        seedWell('Z99'),
        seedWell('B4'),
        seedWell('B5'),
        seedWell('B6'),
      ]),
      { B2: /cellsPerWell must be a positive/, Z99: /"Z99"/, B4: true, B5: true, B6: true },
    );
    expectWells(
      await dosePlate(lab, [
        doseWell('B4', { doseMicromolar: -1 }),
        doseWell('B5', { doseMicromolar: Number.NaN }),
        doseWell('B6'),
      ]),
      {
        B4: /doseMicromolar must be 0 \(vehicle\) or (a )?positive/,
        B5: /doseMicromolar must be 0 \(vehicle\) or (a )?positive/,
        B6: true,
      },
    );
  });

  it('refuses a plate step that names a well twice, as a whole and without retry', async () => {
    const lab = labActivities();
    const error = await seedPlate(lab, [seedWell('B2'), seedWell('B2')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'InvalidOperation', nonRetryable: true });
    expect((error as Error).message).toMatch(/names well B2 twice/);
  });
});
