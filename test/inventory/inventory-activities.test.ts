import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  consumptionKey,
  createInventoryActivities,
  INVALID_RESTOCK,
  type InventoryActivities,
} from '../../src/activities/inventory-activities';
import { parseRestockRequest } from '../../src/inventory/requests';
import { ConfigError } from '../../src/config/validation';
import { experimentCostUsd } from '../../src/domain/costs';
import { PRICES } from '../../src/domain/prices';
import { OUT_OF_STOCK, OutOfStockFault } from '../../src/inventory/inventory-store';
import { LabFault } from '../../src/lab/driver';
import { closeAll, type ExperimentPlan, openStore, pricingOf, stockWith, tempDbPath, usesOf } from './fixtures';

afterEach(closeAll);

function activities(levels: Record<string, number> = {}): InventoryActivities {
  return createInventoryActivities(openStore(tempDbPath(), stockWith(levels)));
}

async function runExperiment(inventory: InventoryActivities, plan: ExperimentPlan): Promise<void> {
  const uses = usesOf(plan);
  for (const step of ['seed', 'dose', 'measure'] as const)
    await inventory.consumeForStep({
      operationKey: `${plan.experimentWorkflowId}/run/${step}`,
      campaignId: plan.campaignId,
      experimentWorkflowId: plan.experimentWorkflowId,
      use: uses[step],
    });
}

async function restockFailure(inventory: InventoryActivities, input: unknown): Promise<ApplicationFailure> {
  const error = await inventory.restock(input as never).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(error)}`);
  expect(error.type).toBe(INVALID_RESTOCK);
  expect(error.nonRetryable).toBe(true);
  return error;
}

const plan = (i: number, overrides: Partial<ExperimentPlan> = {}): ExperimentPlan => ({
  campaignId: 'campaign-a',
  experimentWorkflowId: `campaign-a/i1-e${i}`,
  plateId: 'a-p001',
  well: `B${i + 2}`,
  compound: 'doxorubicin',
  doseMicromolar: 0.5,
  assay: 'viability',
  compoundPricing: pricingOf('doxorubicin'),
  ...overrides,
});

describe('consumeForStep', () => {
  it('surfaces a shortage as a LabFault of type OutOfStock whose instrument is the missing item', async () => {
    const inventory = activities({ 'viability-reagent': 0 });
    const error = await runExperiment(inventory, plan(0)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LabFault);
    expect(error).toBeInstanceOf(OutOfStockFault);
    expect(error).toMatchObject({ type: OUT_OF_STOCK, instrument: 'viability-reagent', permanent: false });
    await inventory.restock({ item: 'viability-reagent', amount: 96 });
    await runExperiment(inventory, plan(0)); // seed and dose are repeats; the measure now runs
    const report = await inventory.inventoryReport();
    expect(report.items.find((i) => i.item === 'viability-reagent')?.level).toBe(95);
    expect(report.campaigns[0]?.experiments[0]?.steps).toEqual(['seed', 'dose', 'measure']);
  });
});

describe('consumptionKey', () => {
  it('is one key per step of an experiment run, whichever activity asks', async () => {
    const execution = { workflowId: 'campaign-a/i1-e0', runId: 'run-1' };
    const first = new MockActivityEnvironment({ workflowExecution: execution, activityId: '3' });
    const later = new MockActivityEnvironment({ workflowExecution: execution, activityId: '9', attempt: 4 });
    expect(await first.run(async () => consumptionKey('measure'))).toBe('campaign-a/i1-e0/run-1/consume:measure');
    expect(await later.run(async () => consumptionKey('measure'))).toBe(
      await first.run(async () => consumptionKey('measure')),
    );
  });
});

describe('restock validation', () => {
  it('names the field, the value and what is allowed', async () => {
    const inventory = activities();
    expect((await restockFailure(inventory, { item: 'tips', amount: -5 })).message).toBe(
      "restock request is invalid:\n  - amount: must be a positive amount in the item's unit (e.g. 960 tips, " +
        '500 mL of DMEM, 200 µL of a compound) (got -5)',
    );
    expect((await restockFailure(inventory, { item: 'tips', amount: 'lots' })).message).toMatch(
      /amount: must be a number \(got "lots"\)/,
    );
    expect((await restockFailure(inventory, { item: '', amount: 5 })).message).toMatch(/item: must name an item/);
    expect((await restockFailure(inventory, { item: 'tips', amount: 5, colour: 'red' })).message).toMatch(
      /unknown key\(s\) "colour"/,
    );
    expect((await restockFailure(inventory, { item: 'plate-96', amount: 2.5 })).message).toBe(
      'amount of plate-96 must be a whole number of plates (got 2.5)',
    );
    expect(
      (await restockFailure(inventory, { item: 'tips', amount: 5, stockConcentrationMicromolar: 10 })).message,
    ).toBe('stockConcentrationMicromolar applies to compounds only; tips is tips');
  });

  it('lists the known items when the item is unknown', async () => {
    const message = (await restockFailure(activities(), { item: 'tipz', amount: 960 })).message;
    expect(message).toMatch(/^unknown item "tipz": known items are /);
    for (const known of ['tips', 'plate-96', 'DMEM', 'DMSO', 'viability-reagent', 'staurosporine', 'H2O2'])
      expect(message).toContain(known);
    expect(message).toMatch(/to stock a new compound, give its stockConcentrationMicromolar/);
  });

  it('reads amounts typed on a command line and item names in any case', async () => {
    const inventory = activities({ DMSO: 10 });
    const record = await inventory.restock({ item: 'dmso', amount: '90', lot: 'DMSO-0002' });
    expect(record).toMatchObject({ item: 'DMSO', amount: 90, unit: 'mL', levelBefore: 10, levelAfter: 100 });
    expect(parseRestockRequest({ item: 'tips', amount: ' 960 ' })).toEqual({ item: 'tips', amount: 960 });
    expect(() => parseRestockRequest({ item: 'tips' })).toThrow(ConfigError);
  });
});

describe('inventoryReport', () => {
  it('reports every level and, per campaign, usage and each experiment’s cost', async () => {
    const inventory = activities({ tips: 1_000 });
    for (let i = 0; i < 4; i++) await runExperiment(inventory, plan(i));
    await runExperiment(
      inventory,
      plan(0, { campaignId: 'campaign-b', experimentWorkflowId: 'campaign-b/e0', plateId: 'b-p001', assay: 'imaging' }),
    );
    const report = await inventory.inventoryReport();

    expect(Object.keys(report).sort()).toEqual(['campaigns', 'generatedAt', 'items', 'totalUsd']);
    expect(report.items.map((i) => i.kind)).toEqual([
      ...Array(6).fill('compound'),
      'plate',
      'plate',
      'tips',
      'medium',
      'medium',
      'reagent',
      'reagent',
      'reagent',
      'reagent',
    ]);
    expect(report.items.find((i) => i.item === 'tips')).toMatchObject({
      kind: 'tips',
      unit: 'tip',
      level: 1_000 - 15,
      reorderLevel: 960,
      low: false,
      lot: 'TIP-0001',
    });
    expect(report.items.find((i) => i.item === 'doxorubicin')).toMatchObject({
      unit: 'µL',
      stockConcentrationMicromolar: 10_000,
      level: 500 - 5 * 0.0055,
      low: false,
    });

    const [a, b] = report.campaigns;
    expect(a).toMatchObject({ campaignId: 'campaign-a', platesOpened: 1 });
    expect(a?.experiments.map((x) => x.experimentWorkflowId)).toEqual([0, 1, 2, 3].map((i) => `campaign-a/i1-e${i}`));
    expect(a?.items.map((i) => [i.item, i.quantity, i.unit])).toEqual([
      ['plate-96', 1, 'plate'],
      ['tips', 12, 'tip'],
      ['DMEM', 0.36, 'mL'],
      ['FBS', 0.04, 'mL'],
      ['liquid handler', 64, 's'],
      ['doxorubicin', 0.022, 'µL'],
      ['DMSO', 0.0022, 'mL'],
      ['viability-reagent', 4, 'well'],
      ['plate reader', 2.5, 's'], // 4 wells × a 96th of a 60 s plate read
    ]);
    const perExperiment = experimentCostUsd('viability', 0.5, pricingOf('doxorubicin'));
    for (const x of a?.experiments ?? []) expect(x.totalUsd).toBeCloseTo(perExperiment, 5);
    expect(a?.totalUsd).toBeCloseTo(4 * perExperiment + (92 / 96) * PRICES.plate96PlainUsd, 5);
    expect(b?.byCategory.plates).toBe(PRICES.plate96ImagingUsd);
    expect(report.totalUsd).toBeCloseTo((a?.totalUsd ?? 0) + (b?.totalUsd ?? 0), 5);

    const onlyB = await inventory.inventoryReport({ campaignId: 'campaign-b' });
    expect(onlyB.campaigns.map((c) => c.campaignId)).toEqual(['campaign-b']);
    expect(onlyB.items).toHaveLength(report.items.length);
  });

  it('flags items at or below their reorder level', async () => {
    const report = await activities({ tips: 960, FBS: 5 }).inventoryReport();
    expect(report.items.filter((i) => i.low).map((i) => i.item)).toEqual(['tips', 'FBS']);
  });
});
