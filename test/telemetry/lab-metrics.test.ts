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

const seed = { campaignId: 'campaign-x', assay: 'viability', location: { plateId: 'p', well: 'B2' } };

describe('lab metrics interceptor', () => {
  it('counts spend by category and instrument time for a completed step', async () => {
    const { run, value } = harness();
    await run('seedWell', seed, () => ({ ok: true }));
    expect(await value('cellos_lab_steps_total', { step: 'seed', outcome: 'ok' })).toBe(1);
    expect(await value('cellos_lab_spend_usd_total', { category: 'plates', campaign: 'campaign-x' })).toBeCloseTo(
      PRICES.plate96PlainUsd / 96,
      6,
    );
    expect(await value('cellos_lab_instrument_busy_seconds_total', { instrument: 'liquid-handler' })).toBeGreaterThan(
      0,
    );
  });

  it('counts a well as done when it is read and as failed on a permanent fault', async () => {
    const { run, value } = harness();
    await run('measureWell', seed, () => ({ rawSignal: 1 }));
    await expect(
      run('addCompound', { ...seed, doseMicromolar: 1 }, () => {
        throw ApplicationFailure.nonRetryable('contaminated', 'Contamination');
      }),
    ).rejects.toThrow('contaminated');
    expect(await value('cellos_lab_wells_total', { outcome: 'done' })).toBe(1);
    expect(await value('cellos_lab_wells_total', { outcome: 'failed' })).toBe(1);
    expect(await value('cellos_lab_steps_total', { step: 'dose', outcome: 'failed' })).toBe(1);
  });

  it('shows an experiment waiting for stock until its step runs, then how long it waited', async () => {
    const { run, value } = harness();
    const outOfStock = () => {
      throw ApplicationFailure.create({ message: 'no tips', type: OUT_OF_STOCK, nonRetryable: true });
    };
    await expect(run('seedWell', seed, outOfStock)).rejects.toThrow('no tips');
    await expect(run('seedWell', seed, outOfStock)).rejects.toThrow('no tips');
    expect(await value('cellos_lab_waiting_experiments', { kind: 'stock' })).toBe(1);
    expect(await value('cellos_lab_stock_shortages_total')).toBe(2);
    expect(await value('cellos_lab_wells_total', { outcome: 'failed' })).toBe(0);
    await run('seedWell', seed, () => ({ ok: true }));
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
