import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/client/campaign-client';
import { PRICES } from '../../src/domain/prices';
import { INSTRUMENT_OFFLINE, LabFault } from '../../src/lab/driver';
import type { VirtualLab } from '../../src/lab/virtual-lab';
import { LabStore } from '../../src/lab/lab-store';
import {
  approveBatchUpdate,
  confirmActionUpdate,
  pauseSignal,
  resumeSignal,
  setBudgetUpdate,
  statusQuery,
  stopSignal,
} from '../../src/temporal/messages';
import { profileWithFaults, testConfig } from '../helpers/configs';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait';

let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('campaign workflow on the real dev server', () => {
  it('matches every result to its proposal by id even when experiments finish in reverse order', async () => {
    // Reads of later wells finish first: completion order is the reverse of start order.
    // With a plate read, wells of one plate finish together: reverse the order of the plate's report.
    const slowEarlyWells = (driver: VirtualLab): VirtualLab => ({
      ...driver,
      async readPlate(request) {
        const report = await driver.readPlate(request);
        return { ...report, wells: [...report.wells].reverse() };
      },
    });
    await withWorkers(
      env,
      async (lab) => {
        const config = testConfig({ maxIterations: 1, batchSize: 6, controlsPerLine: 1 });
        const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
        const results = await handle.result();
        expect(results.outcomes).toHaveLength(6 + 2);
        expect(new Set(results.outcomes.map((o) => o.proposal.proposalId)).size).toBe(8);
        // The lab's own log says what was physically dosed into each well: it must match the proposal.
        const store = LabStore.open(lab.labDbPath);
        try {
          for (const o of results.outcomes) {
            const well = store.getWell(o.location);
            expect(well?.doseMicromolar).toBe(o.proposal.doseMicromolar);
            expect(well?.cellLine).toBe(o.proposal.cellLine);
            expect(o.status).toBe('succeeded');
          }
        } finally {
          store.close();
        }
      },
      { wrapDriver: slowEarlyWells },
    );
  });

  it('runs each plate step once for the whole plate, with the incubations as the plate timers, and each well keeps its own record', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 1, batchSize: 6, controlsPerLine: 1 });
      const campaignId = `campaign-${config.name}`;
      const results = await (await startCampaign({ client: env.client, ...lab }, config, campaignId)).result();
      expect(results.outcomes).toHaveLength(8);
      const events = async (workflowId: string) => {
        const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
        return (history.events ?? []).map((e) => ({
          timer: e.timerStartedEventAttributes !== undefined && e.timerStartedEventAttributes !== null,
          summary: new TextDecoder().decode(e.userMetadata?.summary?.data ?? new Uint8Array()),
          activity: e.activityTaskScheduledEventAttributes?.activityType?.name,
          signal: e.workflowExecutionSignaledEventAttributes?.signalName,
        }));
      };
      // The plate: one activity per plate step and the two incubations, nothing per well (a retried
      // signal to a well whose record had not started yet waits on a timer of its own, not counted).
      const plate = await events(`${campaignId}/plate-p001`);
      expect(plate.filter((e) => e.activity).map((e) => e.activity)).toEqual(['seedPlate', 'dosePlate', 'readPlate']);
      expect(plate.filter((e) => e.timer && /^"(attachment|treatment) /.test(e.summary))).toHaveLength(2);
      // Each experiment: its well's three outcomes, no instrument call and no timer of its own.
      for (const o of results.outcomes) {
        const own = await events(o.experimentWorkflowId);
        expect(own.filter((e) => e.signal === 'wellStep')).toHaveLength(3);
        expect(own.filter((e) => e.activity || e.timer)).toEqual([]);
      }
      // Every well of the plate was dosed after the same attachment timer: no drift from well to well.
      const store = LabStore.open(lab.labDbPath);
      try {
        const attachment = new Set(results.outcomes.map((o) => store.getWell(o.location)?.attachmentHours));
        expect([...attachment]).toEqual([config.protocol.attachmentHours]);
      } finally {
        store.close();
      }
    });
  });

  it('starts no new experiment while paused and continues after resume', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 3, secondsPerLabHour: 0.05 });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      await waitFor(
        () => handle.query(statusQuery),
        (s) => s.experiments.running > 0,
      );
      await handle.signal(pauseSignal, { reason: 'checking the incubator' });
      const paused = await waitFor(
        () => handle.query(statusQuery),
        (s) => s.state === 'paused',
      );
      expect(paused.iteration).toBe(1);
      expect(paused.experiments.running).toBe(0);
      expect(paused.detail).toBe('checking the incubator');
      // Stay paused for a while: nothing new may start.
      await new Promise((r) => setTimeout(r, 3_000));
      const still = await handle.query(statusQuery);
      expect(still.state).toBe('paused');
      expect(still.iteration).toBe(1);
      expect(still.experiments.running).toBe(0);
      expect(still.experiments.done).toBe(paused.experiments.done);
      await handle.signal(resumeSignal);
      const results = await handle.result();
      expect(results.status.state).toBe('completed');
      expect(results.status.iteration).toBe(3);
    });
  });

  it('holds a batch when a pause arrives while it waits for approval or for a person to load the plate', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 1, approval: 'required', manualPlateLoading: true });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      const status = () => handle.query(statusQuery);
      const holdsWhilePaused = async (reason: string) => {
        const held = await waitFor(status, (s) => s.state === 'paused');
        expect(held.detail).toBe(reason);
        await new Promise((r) => setTimeout(r, 2_000)); // nothing may start while paused
        const still = await status();
        expect(still.state).toBe('paused');
        expect(still.experiments).toMatchObject({ running: 0, done: 0, failed: 0 });
        await handle.signal(resumeSignal);
      };

      await waitFor(status, (s) => s.state === 'awaiting approval');
      await handle.signal(pauseSignal, { reason: 'paused during approval' });
      await handle.executeUpdate(approveBatchUpdate, { args: [{}] });
      await holdsWhilePaused('paused during approval');

      await waitFor(status, (s) => s.state === 'waiting for a person');
      await handle.signal(pauseSignal, { reason: 'paused before loading' });
      await handle.executeUpdate(confirmActionUpdate, { args: [{}] });
      await holdsWhilePaused('paused before loading');

      const results = await handle.result();
      expect(results.status.state).toBe('completed');
      expect(results.outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(results.outcomes.length);
    });
  });

  it('refuses a budget below what is already spent, with the reason, and keeps the old budget', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 2, budgetUsd: 300 });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      await waitFor(
        () => handle.query(statusQuery),
        (s) => s.iteration >= 1,
      );
      const error = await handle.executeUpdate(setBudgetUpdate, { args: [{ budgetUsd: 1 }] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((error as WorkflowUpdateFailedError).cause?.message).toMatch(/below what is already spent/);
      const negative = await handle
        .executeUpdate(setBudgetUpdate, { args: [{ budgetUsd: -5 }] })
        .catch((e: unknown) => e);
      expect((negative as WorkflowUpdateFailedError).cause?.message).toMatch(/must not be negative/);
      expect((await handle.query(statusQuery)).budgetUsd).toBe(300);
      const accepted = await handle.executeUpdate(setBudgetUpdate, { args: [{ budgetUsd: 400 }] });
      expect(accepted).toMatchObject({ previousBudgetUsd: 300, budgetUsd: 400 });
      const results = await handle.result();
      expect(results.status.budgetUsd).toBe(400);
    });
  });

  it('ends with "budget exhausted" without ever spending beyond the budget', async () => {
    await withWorkers(env, async (lab) => {
      // One batch (4 treatments + 2 controls) costs about $6.5 of wells plus $3.75 for the 90 wells
      // of its plate left empty (plates are charged whole): $18 fits one batch and a shrunken second.
      const config = testConfig({ maxIterations: 10, budgetUsd: 18 });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      const results = await handle.result();
      expect(results.status.state).toBe('budget exhausted');
      expect(results.status.spentUsd).toBeLessThanOrEqual(18);
      expect(results.status.iteration).toBeGreaterThanOrEqual(2);
      const second = results.outcomes.filter((o) => o.iteration === 2 && !o.proposal.isControl);
      expect(second.length).toBeGreaterThan(0);
      expect(second.length).toBeLessThan(4); // the batch was shrunk to fit
      const store = LabStore.open(lab.labDbPath);
      try {
        // Every physical read was paid for, and nothing else.
        expect(store.listOperations({ kind: 'read' })).toHaveLength(results.outcomes.length);
      } finally {
        store.close();
      }
    });
  });

  it('stops cleanly: running experiments finish, then the campaign ends as "stopped"', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 5, secondsPerLabHour: 0.05 });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      await waitFor(
        () => handle.query(statusQuery),
        (s) => s.experiments.running > 0,
      );
      await handle.signal(stopSignal, { reason: 'enough for today' });
      await handle.signal(stopSignal); // a second stop is a no-op
      const results = await handle.result();
      expect(results.status.state).toBe('stopped');
      expect(results.status.detail).toBe('enough for today');
      expect(results.status.iteration).toBe(1);
      expect(results.outcomes).toHaveLength(4 + 2);
      expect(results.outcomes.every((o) => o.status === 'succeeded')).toBe(true);
    });
  });

  it('records a contaminated well as failed with its reason and cost, excludes it, and carries on', async () => {
    await withWorkers(
      env,
      async (lab) => {
        const config = testConfig({ maxIterations: 2, batchSize: 8, seed: 11, failurePause: { maxFailureRate: 1 } });
        const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
        const results = await handle.result();
        expect(results.status.state).toBe('completed');
        const failed = results.outcomes.filter((o) => o.status === 'failed');
        expect(failed.length).toBeGreaterThan(0);
        expect(failed.length).toBeLessThan(results.outcomes.length);
        for (const f of failed) {
          expect(f.failure?.type).toBe('Contamination');
          expect(f.normalisedResponse).toBeUndefined();
          expect(f.costUsd).toBeGreaterThan(0); // seeding and dosing were done and paid for
        }
        expect(results.status.experiments.failed).toBe(failed.length);
        // done, running and failed count every well, vehicle controls included.
        expect(results.status.experiments.done).toBe(results.outcomes.length - failed.length);
      },
      { profile: profileWithFaults({ contaminationRate: 0.25, transientErrorRate: 0 }) },
    );
  });

  it('pauses itself and says why when the failure rate passes the threshold', async () => {
    await withWorkers(
      env,
      async (lab) => {
        const config = testConfig({
          maxIterations: 5,
          batchSize: 8,
          seed: 3,
          failurePause: { maxFailureRate: 0.2, minExperiments: 5 },
        });
        const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
        const paused = await waitFor(
          () => handle.query(statusQuery),
          (s) => s.state === 'paused',
        );
        expect(paused.iteration).toBe(1);
        expect(paused.detail).toMatch(/experiments failed \(Contamination\).*a person is needed/);
        await handle.signal(stopSignal);
        expect((await handle.result()).status.state).toBe('stopped');
      },
      { profile: profileWithFaults({ contaminationRate: 0.7, transientErrorRate: 0 }) },
    );
  });

  it('waits for an offline instrument, names it in the status, and continues when it is back', async () => {
    let readerOnline = false;
    const offlineReader = (driver: VirtualLab): VirtualLab => ({
      ...driver,
      async readPlate(request) {
        if (!readerOnline) throw new LabFault(INSTRUMENT_OFFLINE, 'plate reader is offline', false, 'plate reader');
        return driver.readPlate(request);
      },
    });
    await withWorkers(
      env,
      async (lab) => {
        const config = testConfig({ maxIterations: 1 });
        const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
        const waiting = await waitFor(
          () => handle.query(statusQuery),
          (s) => s.waitingFor.some((w) => w.instrument === 'plate reader' && w.experiments === 6),
        );
        expect(waiting.state).toBe('running');
        readerOnline = true;
        const results = await handle.result();
        expect(results.outcomes.every((o) => o.status === 'succeeded')).toBe(true);
        expect(results.status.waitingFor).toEqual([]);
      },
      { wrapDriver: offlineReader },
    );
  });

  it('continues as new when Temporal suggests it and keeps every result and the budget', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 8, batchSize: 6, budgetUsd: 900 });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      await waitFor(
        () => handle.query(statusQuery),
        (s) => s.iteration >= 1,
      );
      await handle.executeUpdate(setBudgetUpdate, { args: [{ budgetUsd: 800 }] });
      const results = await handle.result();
      expect(results.status.runs).toBeGreaterThanOrEqual(1);
      expect(results.status.state).toBe('completed');
      expect(results.status.iteration).toBe(8);
      expect(results.status.budgetUsd).toBe(800);
      expect(results.outcomes.filter((o) => !o.proposal.isControl)).toHaveLength(8 * 6);
      expect(new Set(results.outcomes.map((o) => o.proposal.proposalId)).size).toBe(results.outcomes.length);
      // The wells, plus the empty wells of each batch's plate: plates are charged whole.
      const wells = results.outcomes.reduce((s, o) => s + o.costUsd, 0);
      const plates = new Map<string, number>();
      for (const o of results.outcomes) plates.set(o.location.plateId, (plates.get(o.location.plateId) ?? 0) + 1);
      const unused = [...plates.values()].reduce((s, n) => s + (PRICES.plate96PlainUsd * (96 - n)) / 96, 0);
      expect(results.status.spentUsd).toBeCloseTo(wells + unused, 1);
    });
  });
});
