import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PRICES } from '../../src/domain/prices';
import { OUT_OF_STOCK } from '../../src/inventory/consumption';
import { LabMetrics } from '../../src/telemetry/lab-metrics';
import { labMetricsInterceptor } from '../../src/telemetry/lab-metrics-interceptor';

/** Runs one lab activity through the interceptor, as the worker would, with `outcome` as the activity body. */
function harness() {
  const registry = new Registry();
  const factory = labMetricsInterceptor(new LabMetrics(registry));
  const run = async (
    activityType: string,
    input: object,
    outcome: () => unknown,
    workflowId = 'campaign-x/i001-e01',
  ) => {
    const ctx = {
      info: {
        activityType,
        activityId: '1',
        taskQueue: 'lab-liquid-handler',
        workflowExecution: { workflowId, runId: 'r' },
      },
    } as unknown as Context;
    const inbound = factory(ctx).inbound!;
    return inbound.execute!({ args: [input], headers: {} }, async () => outcome());
  };
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    return metric?.values
      .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
      .reduce((sum, v) => sum + v.value, 0);
  };
  return { run, value };
}

const wells = [
  { well: 'B2', experimentWorkflowId: 'campaign-x/i001-e01', compound: 'staurosporine', doseMicromolar: 1 },
  { well: 'B3', experimentWorkflowId: 'campaign-x/i001-e02', compound: '', doseMicromolar: 0 },
];
const plate = { campaignId: 'campaign-x', assay: 'viability', plateId: 'p', wells };
/** A plate step's report: every well succeeded unless named in `failed`. */
const report = (failed: string[] = []) => ({
  operationKey: 'p/x',
  instrumentSeconds: 60,
  wells: wells.map(({ well }) =>
    failed.includes(well)
      ? { well, ok: false, failure: { type: 'Contamination', message: 'contaminated' } }
      : { well, ok: true, value: {} },
  ),
});

describe('lab metrics interceptor', () => {
  it('counts spend by category and instrument time for a completed step', async () => {
    const { run, value } = harness();
    await run('seedPlate', plate, () => report());
    expect(await value('cellos_lab_steps_total', { step: 'seed', outcome: 'ok' })).toBe(1);
    expect(await value('cellos_lab_spend_usd_total', { category: 'plates', campaign: 'campaign-x' })).toBeCloseTo(
      (2 * PRICES.plate96PlainUsd) / 96,
      6,
    );
    expect(await value('cellos_lab_instrument_busy_seconds_total', { instrument: 'liquid-handler' })).toBeGreaterThan(
      0,
    );
  });

  it('counts wells as done when they are read and as failed when their step fails them or the whole step fails', async () => {
    const { run, value } = harness();
    await run('readPlate', plate, () => report(['B3']));
    expect(await value('cellos_lab_wells_total', { outcome: 'done' })).toBe(1);
    expect(await value('cellos_lab_wells_total', { outcome: 'failed' })).toBe(1);
    await expect(
      run('dosePlate', { ...plate, attachmentHours: 4 }, () => {
        throw ApplicationFailure.nonRetryable('the plate was dropped', 'PlateDropped');
      }),
    ).rejects.toThrow('dropped');
    expect(await value('cellos_lab_wells_total', { outcome: 'failed' })).toBe(3);
    expect(await value('cellos_lab_steps_total', { step: 'dose', outcome: 'failed' })).toBe(1);
  });

  it("shows a plate's wells waiting for stock until its step runs, then how long they waited", async () => {
    const { run, value } = harness();
    const outOfStock = () => {
      throw ApplicationFailure.create({ message: 'no tips', type: OUT_OF_STOCK, nonRetryable: true });
    };
    await expect(run('seedPlate', plate, outOfStock)).rejects.toThrow('no tips');
    await expect(run('seedPlate', plate, outOfStock)).rejects.toThrow('no tips');
    expect(await value('cellos_lab_waiting_experiments', { kind: 'stock' })).toBe(2);
    expect(await value('cellos_lab_stock_shortages_total')).toBe(2);
    expect(await value('cellos_lab_wells_total', { outcome: 'failed' })).toBe(0);
    await run('seedPlate', plate, () => report());
    expect(await value('cellos_lab_waiting_experiments', { kind: 'stock' })).toBe(0);
    const histogram = (await value('cellos_lab_wait_seconds', { kind: 'stock' })) ?? 0;
    expect(histogram).toBeGreaterThan(0); // bucket counts, sum and count of the one observed wait
  });

  it('leaves activities that are not lab steps alone', async () => {
    const { run, value } = harness();
    await run('inventoryReport', {}, () => 'report');
    expect(await value('cellos_lab_steps_total')).toBe(0);
  });
});
