import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createLabActivities, type LabActivities } from '../../src/activities/lab-activities';
import { builtinLabConfig } from '../../src/config/lab-config';
import { InstrumentGuard } from '../../src/instruments/instrument-guard';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { compoundPricing } from '../../src/lab/catalogue';
import { createVirtualLab } from '../../src/lab/virtual-lab';
import { PROFILE, tempDbPath } from '../lab/fixtures';

/**
 * Physically impossible requests, seen where Temporal sees them: the lab activity must fail them
 * as non-retryable ApplicationFailures (retrying an impossible operation twelve times changes
 * nothing), typed InvalidOperation so the experiment records why. test/lab checks the driver.
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
    driver,
    guard,
    labConfig: builtinLabConfig(),
    inventory,
    pricing: (compound) => compoundPricing(PROFILE, compound),
  });
}

let activityNumber = 0;
/** Runs an activity as the first attempt of its own experiment workflow (stock is drawn once per workflow and step). */
function asActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  activityNumber++;
  const env = new MockActivityEnvironment({
    activityId: String(activityNumber),
    activityType: fn.name,
    attempt: 1,
    workflowExecution: { workflowId: `campaign-refusals/e${activityNumber}`, runId: 'run-1' },
  });
  return env.run(fn, ...args);
}

const common = { secondsPerLabHour: 0, campaignId: 'campaign-refusals' };
const location = { plateId: 'refusals-p001', well: 'B2' };
const seed = (overrides: Partial<Parameters<LabActivities['seedWell']>[0]> = {}) => ({
  ...common,
  location,
  assay: 'viability' as const,
  cellLine: 'U2OS',
  cellsPerWell: 10_000,
  volumeMicrolitres: 100,
  ...overrides,
});
const dose = (overrides: Partial<Parameters<LabActivities['addCompound']>[0]> = {}) => ({
  ...common,
  location,
  compound: 'staurosporine',
  doseMicromolar: 1,
  volumeMicrolitres: 10,
  attachmentHours: 4,
  ...overrides,
});
const read = { ...common, location, assay: 'viability' as const, treatmentHours: 24 };

async function expectNonRetryable(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect(error).toMatchObject({ type: 'InvalidOperation', nonRetryable: true });
  expect((error as Error).message).toMatch(message);
}

describe('the lab activities refuse impossible operations without retry', () => {
  it('refuses to dose a well that was never seeded', async () => {
    const lab = labActivities();
    await expectNonRetryable(asActivity(lab.addCompound, dose()), /never seeded/);
  });

  it('refuses to read a well that was seeded but never dosed', async () => {
    const lab = labActivities();
    await asActivity(lab.seedWell, seed());
    await expectNonRetryable(asActivity(lab.measureWell, read), /never dosed/);
  });

  it('refuses to read a well that was never seeded', async () => {
    const lab = labActivities();
    await expectNonRetryable(asActivity(lab.measureWell, read), /never seeded/);
  });

  it('refuses to overfill a well, at seeding and at dosing', async () => {
    const lab = labActivities();
    await expectNonRetryable(asActivity(lab.seedWell, seed({ volumeMicrolitres: 250 })), /working volume is 200 µL/);
    await asActivity(lab.seedWell, seed({ volumeMicrolitres: 195 }));
    await expectNonRetryable(asActivity(lab.addCompound, dose({ volumeMicrolitres: 10 })), /holds 195 µL/);
  });

  it('refuses to seed an occupied well, dose a dosed one, and read a lysed one a second time', async () => {
    const lab = labActivities();
    await asActivity(lab.seedWell, seed());
    await expectNonRetryable(asActivity(lab.seedWell, seed({ cellLine: 'HeLa' })), /already holds U2OS/);
    await asActivity(lab.addCompound, dose());
    await expectNonRetryable(asActivity(lab.addCompound, dose()), /already dosed/);
    await asActivity(lab.measureWell, read);
    await expectNonRetryable(asActivity(lab.measureWell, read), /lytic viability read already consumed/);
  });

  it('refuses nonsense quantities: no cells, unknown wells, negative or NaN doses', async () => {
    const lab = labActivities();
    await expectNonRetryable(asActivity(lab.seedWell, seed({ cellsPerWell: 0 })), /cellsPerWell must be a positive/);
    await expectNonRetryable(asActivity(lab.seedWell, seed({ location: { plateId: 'p', well: 'Z99' } })), /"Z99"/);
    await asActivity(lab.seedWell, seed());
    for (const doseMicromolar of [-1, Number.NaN])
      await expectNonRetryable(
        asActivity(lab.addCompound, dose({ doseMicromolar })),
        /doseMicromolar must be 0 \(vehicle\) or (a )?positive/,
      );
  });
});
