import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/client/campaign-client';
import { auditCampaign } from '../../src/lab/campaign-audit';
import { LabStore } from '../../src/lab/lab-store';
import {
  approveBatchUpdate,
  confirmActionUpdate,
  pauseSignal,
  rejectBatchUpdate,
  resultsQuery,
  resumeSignal,
  setBudgetUpdate,
  setPriorityUpdate,
  statusQuery,
  stopSignal,
} from '../../src/temporal/messages';
import { testConfig } from '../helpers/configs';
import { profilePricing } from '../../src/lab/catalogue';
import { builtinLabProfile } from '../../src/config/lab-profile';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait';

/**
 * Bad messages sent straight to running and finished campaigns (what a buggy script or a confused
 * operator could send, past the CLI's checks). Each is refused with a reason before anything
 * changes, or is a harmless no-op; the campaign neither crashes nor sticks, and finishes clean.
 */
let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

/** The update's refusal message; fails the test if the update was accepted. */
async function refusal(update: Promise<unknown>): Promise<string> {
  const outcome = await update.then(
    (accepted: unknown) => ({ accepted }),
    (err: unknown) => ({ err }),
  );
  if ('accepted' in outcome) throw new Error(`accepted: ${JSON.stringify(outcome.accepted)}`);
  expect(outcome.err).toBeInstanceOf(WorkflowUpdateFailedError);
  return (outcome.err as WorkflowUpdateFailedError).cause?.message ?? '';
}

describe('bad messages to campaigns', () => {
  it('refuses bad updates and ignores repeated signals without changing a paused campaign, which then finishes clean', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 2, secondsPerLabHour: 0.05 });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      await waitFor(
        () => handle.query(statusQuery),
        (s) => s.experiments.running > 0,
      );
      await handle.signal(pauseSignal, { reason: 'first pause' });
      const before = await waitFor(
        () => handle.query(statusQuery),
        (s) => s.state === 'paused' && s.experiments.running === 0,
      );
      expect(before.spentUsd).toBeGreaterThan(0);

      const budget = (budgetUsd: unknown) =>
        refusal(handle.executeUpdate(setBudgetUpdate, { args: [{ budgetUsd } as { budgetUsd: number }] }));
      expect(await budget(before.spentUsd / 2)).toMatch(/below what is already spent or committed.*allowed: at least/);
      expect(await budget(-5)).toMatch(/must not be negative \(got -5\)/);
      expect(await budget(Number.NaN)).toMatch(/must be a finite number of USD \(got null\)/); // NaN travels as JSON null
      expect(await budget(Number.POSITIVE_INFINITY)).toMatch(/must be a finite number/);
      expect(await budget('100')).toMatch(/must be a finite number of USD \(got 100\)/);
      expect(await budget(undefined)).toMatch(/must be a finite number of USD \(got undefined\)/);
      expect(await budget(5_000_000)).toMatch(/must be at most 1000000/);
      expect(await refusal(handle.executeUpdate(setBudgetUpdate, { args: [null as never] }))).toMatch(/finite number/);
      for (const priorityKey of [0, 6, 2.5, Number.NaN, 'high'])
        expect(
          await refusal(
            handle.executeUpdate(setPriorityUpdate, { args: [{ priorityKey } as { priorityKey: number }] }),
          ),
        ).toMatch(/priorityKey must be a whole number from 1 \(highest\) to 5/);
      expect(await refusal(handle.executeUpdate(approveBatchUpdate, { args: [{}] }))).toMatch(/no batch is waiting/);
      expect(await refusal(handle.executeUpdate(rejectBatchUpdate, { args: [{ reason: '' }] }))).toMatch(
        /no batch is waiting/,
      );
      expect(await refusal(handle.executeUpdate(confirmActionUpdate, { args: [{}] }))).toMatch(/no manual step/);
      // Pausing twice is a no-op: the first reason stands.
      await handle.signal(pauseSignal, { reason: 'second pause' });
      // Messages nobody defined: a query is refused, a signal waits unhandled and harms nothing.
      await expect(handle.query('launchMissiles')).rejects.toThrow(/launchMissiles/);
      await handle.signal('launchMissiles', { now: true });

      const after = await handle.query(statusQuery);
      expect(after).toEqual(before);
      expect(after.detail).toBe('first pause');

      // Not stuck: a valid resume lets it finish, and the lab agrees with every figure.
      await handle.signal(resumeSignal);
      const results = await handle.result();
      expect(results.status.state).toBe('completed');
      expect(results.status.budgetUsd).toBe(before.budgetUsd);
      const store = LabStore.open(lab.labDbPath);
      try {
        expect(auditCampaign({ results, store, compounds: profilePricing(builtinLabProfile()) }).problems).toEqual([]);
      } finally {
        store.close();
      }
    });
  });

  it('treats resume when not paused and a second stop as no-ops', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 3, secondsPerLabHour: 0.05 });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      const running = await waitFor(
        () => handle.query(statusQuery),
        (s) => s.experiments.running > 0,
      );
      await handle.signal(resumeSignal);
      const resumed = await handle.query(statusQuery);
      expect(resumed).toMatchObject({ state: 'running', paused: false, detail: running.detail, stopRequested: false });
      await handle.signal(stopSignal, { reason: 'first stop' });
      await handle.signal(stopSignal, { reason: 'second stop' });
      const results = await handle.result();
      expect(results.status.state).toBe('stopped');
      expect(results.status.detail).toBe('first stop');
      expect(results.status.iteration).toBe(1);
      expect(results.outcomes.every((o) => o.status === 'succeeded')).toBe(true);
    });
  });

  it('refuses every message to a finished campaign and leaves its results as they were', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 1 });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      const results = await handle.result();
      for (const send of [
        () => handle.signal(pauseSignal, { reason: 'too late' }),
        () => handle.signal(resumeSignal),
        () => handle.signal(stopSignal, {}),
      ])
        await expect(send()).rejects.toBeInstanceOf(WorkflowNotFoundError);
      await expect(handle.executeUpdate(setBudgetUpdate, { args: [{ budgetUsd: 900 }] })).rejects.toThrow(
        /workflow execution already completed/,
      );
      expect(await handle.query(resultsQuery)).toEqual(results);
      expect(await handle.result()).toEqual(results);
    });
  });
});
