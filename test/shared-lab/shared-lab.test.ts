import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/client/campaign-client';
import { builtinLabConfig, type LabConfig } from '../../src/config/lab-config';
import type { CampaignStatus } from '../../src/domain/campaign-status';
import { InstrumentGuard } from '../../src/instruments/instrument-guard';
import { LabStore } from '../../src/lab/lab-store';
import {
  approveBatchUpdate,
  confirmActionUpdate,
  incubatorStatusQuery,
  rejectBatchUpdate,
  setPriorityUpdate,
  statusQuery,
} from '../../src/temporal/messages';
import { incubatorWorkflowId } from '../../src/temporal/task-queues';
import type { IncubatorSnapshot } from '../../src/workflows/incubator-state';
import { testConfig } from '../helpers/configs';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait';

let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

const labWith = (patch: Partial<LabConfig>): LabConfig => ({ ...builtinLabConfig(), ...patch });

function dosedWells(labDbPath: string): number {
  const store = LabStore.open(labDbPath);
  try {
    return store.listOperations({ kind: 'dose' }).length;
  } finally {
    store.close();
  }
}

/** Which plate each plate-reader run read ("<campaign name>-<run id>-p001"), in the order the reader did them. */
function readerOrder(labDbPath: string): string[] {
  const guard = InstrumentGuard.open(labDbPath);
  try {
    return guard.uses('plate-reader').map((u) => u.holder.split('/')[0]!);
  } finally {
    guard.close();
  }
}

describe('a shared lab', () => {
  it('gives the plate reader to the higher-priority campaign first, including after a priority change', async () => {
    // The reader's worker starts only once both campaigns' plate reads are queued on its task queue,
    // so the order it serves them in is the matcher's priority order, not an accident of timing.
    await withWorkers(
      env,
      async (lab) => {
        const opts = { client: env.client, ...lab };
        const low = testConfig({ maxIterations: 1, batchSize: 8, priority: 4, secondsPerLabHour: 0.05 });
        const high = testConfig({ maxIterations: 1, batchSize: 8, priority: 4, secondsPerLabHour: 0.05 });
        const lowHandle = await startCampaign(opts, low, `campaign-${low.name}`);
        const highHandle = await startCampaign(opts, high, `campaign-${high.name}`);
        // Equal priorities at start; one is raised while its wells incubate.
        await waitFor(
          () => highHandle.query(statusQuery),
          (s) => s.experiments.running === 10,
        );
        await highHandle.executeUpdate(setPriorityUpdate, { args: [{ priorityKey: 1 }] });
        // All 20 wells dosed, plus the 24 lab h treatment (1.2 s here) and a margin: both plate reads are queued.
        await waitFor(
          async () => dosedWells(lab.labDbPath),
          (n) => n === 20,
        );
        await new Promise((r) => setTimeout(r, 4_000));
        await lab.serve(['plate-reader'], Promise.all([lowHandle.result(), highHandle.result()]));

        const order = readerOrder(lab.labDbPath);
        expect(order).toHaveLength(2); // one read per plate
        expect(order[0]!.startsWith(`${high.name}-`)).toBe(true);
        expect(order[1]!.startsWith(`${low.name}-`)).toBe(true);
      },
      { instruments: ['liquid-handler', 'imager'] },
    );
  });

  it('never holds more plates than the incubator has slots, with three campaigns contending', async () => {
    const labConfig = labWith({ incubator: { capacityPlates: 2, reapIntervalSeconds: 60 } });
    await withWorkers(
      env,
      async (lab) => {
        const opts = { client: env.client, ...lab };
        const configs = [1, 2, 3].map(() => testConfig({ maxIterations: 2, batchSize: 3 }));
        const handles = await Promise.all(configs.map((c) => startCampaign(opts, c, `campaign-${c.name}`)));
        const incubator = env.client.workflow.getHandle(incubatorWorkflowId(lab.labTaskQueue));
        let peakSeenLive = 0;
        let done = false;
        const watcher = (async () => {
          while (!done) {
            const s = await incubator.query(incubatorStatusQuery).catch(() => undefined);
            if (s) peakSeenLive = Math.max(peakSeenLive, s.holders.length);
            await new Promise((r) => setTimeout(r, 50));
          }
        })();
        const results = await Promise.all(handles.map((h) => h.result()));
        done = true;
        await watcher;
        expect(results.map((r) => r.status.state)).toEqual(['completed', 'completed', 'completed']);
        const final = (await incubator.query(incubatorStatusQuery)) as IncubatorSnapshot;
        expect(final.grants).toBe(6);
        expect(final.peakPlates).toBe(2); // contention happened and capacity held
        expect(peakSeenLive).toBeLessThanOrEqual(2);
        expect(final.holders).toEqual([]);
        expect(final.queue).toEqual([]);
      },
      { labConfig },
    );
  });

  it('frees the incubator slot of a campaign that ended without releasing it', async () => {
    const labConfig = labWith({ incubator: { capacityPlates: 1, reapIntervalSeconds: 2 } });
    await withWorkers(
      env,
      async (lab) => {
        const opts = { client: env.client, ...lab };
        // The first campaign takes the only slot and then waits for a person who never comes.
        const holder = testConfig({ maxIterations: 1, manualPlateLoading: true });
        const holderHandle = await startCampaign(opts, holder, `campaign-${holder.name}`);
        await waitFor(
          () => holderHandle.query(statusQuery),
          (s) => s.state === 'waiting for a person',
        );
        const waiter = testConfig({ maxIterations: 1 });
        const waiterHandle = await startCampaign(opts, waiter, `campaign-${waiter.name}`);
        await new Promise((r) => setTimeout(r, 1_500));
        expect((await waiterHandle.query(statusQuery)).detail).toMatch(/waiting for an incubator slot/);
        await holderHandle.terminate('operator killed it');
        const result = await waiterHandle.result();
        expect(result.status.state).toBe('completed');
      },
      { labConfig },
    );
  });

  it('waits for approval, feeds a rejection back to the learner, and runs an approved batch', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 1, approval: 'required' });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      const waiting = await waitFor(
        () => handle.query(statusQuery),
        (s) => s.state === 'awaiting approval',
      );
      const first = waiting.pendingBatch!.filter((p) => !p.isControl);
      expect(first.length).toBe(4);
      expect(waiting.experiments.running).toBe(0);

      const noReason = await handle
        .executeUpdate(rejectBatchUpdate, { args: [{ reason: ' ' }] })
        .catch((e: Error) => e);
      expect(String((noReason as { cause?: Error }).cause?.message)).toMatch(/reason must say why/);
      await handle.executeUpdate(rejectBatchUpdate, { args: [{ reason: 'doses too close together' }] });
      const second = await waitFor(
        () => handle.query(statusQuery),
        (s: CampaignStatus) => s.state === 'awaiting approval' && s.rejections.length === 1,
      );
      const secondTreatments = second.pendingBatch!.filter((p) => !p.isControl);
      const key = (p: { cellLine: string; compound: string; doseMicromolar: number }) =>
        `${p.cellLine}|${p.compound}|${p.doseMicromolar}`;
      expect(secondTreatments.some((p) => first.map(key).includes(key(p)))).toBe(false);
      expect(second.rejections[0]).toMatchObject({ iteration: 1, wells: 4, reason: 'doses too close together' });

      await handle.executeUpdate(approveBatchUpdate, { args: [{}] });
      const twice = await handle.executeUpdate(approveBatchUpdate, { args: [{}] }).catch((e: Error) => e);
      expect(String((twice as { cause?: Error }).cause?.message)).toMatch(/no batch is waiting for approval/);
      const results = await handle.result();
      const ran = results.outcomes.filter((o) => !o.proposal.isControl).map((o) => key(o.proposal));
      expect(ran.sort()).toEqual(secondTreatments.map(key).sort());
    });
  });

  it('waits for a person to confirm loading the plate, and says so', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 1, manualPlateLoading: true });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      const waiting = await waitFor(
        () => handle.query(statusQuery),
        (s) => s.state === 'waiting for a person',
      );
      expect(waiting.pendingAction).toMatch(/^load plate .+-p001 \(6 wells\) into the incubator$/);
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await handle.query(statusQuery)).experiments.running).toBe(0);
      const r = await handle.executeUpdate(confirmActionUpdate, { args: [{}] });
      expect(r.confirmed).toBe(waiting.pendingAction);
      expect((await handle.result()).status.state).toBe('completed');
    });
  });

  it('starts a campaign at the time it was given, not before', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({ maxIterations: 1 });
      const requestedAt = Date.now();
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`, 4_000);
      await handle.result();
      const history = await handle.fetchHistory();
      const firstTask = history.events?.find((e) => e.workflowTaskStartedEventAttributes);
      const startedMs =
        Number(firstTask!.eventTime!.seconds) * 1000 + Math.floor((firstTask!.eventTime!.nanos ?? 0) / 1e6);
      expect(startedMs - requestedAt).toBeGreaterThanOrEqual(3_900);
      expect(startedMs - requestedAt).toBeLessThan(15_000);
    });
  });
});
