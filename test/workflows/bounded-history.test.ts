import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completedResults, startCampaign } from '../../src/client/campaign-client';
import { resultsQuery } from '../../src/temporal/messages';
import { WORKFLOWS_PATH } from '../../src/workers/orchestration';
import { RESULT_OUTCOMES } from '../../src/workflows/campaign-state';
import { testConfig } from '../helpers/configs';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';

let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

const { EventType } = proto.temporal.api.enums.v1;

/**
 * Every run of a campaign (its continue-as-new chain): each event's type with the size of its
 * largest payload, and the histories as text (payloads decoded).
 */
async function scan(client: Client, workflowId: string) {
  const runs: string[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(w.runId);
  const histories = await Promise.all(runs.map((runId) => client.workflow.getHandle(workflowId, runId).fetchHistory()));
  const events = histories
    .flatMap((h) => h.events ?? [])
    .map((event) => {
      let largest = 0;
      JSON.stringify(event, (_key, value: unknown) => {
        if (value && typeof value === 'object' && (value as { data?: unknown }).data instanceof Uint8Array)
          largest = Math.max(largest, (value as { data: Uint8Array }).data.length);
        return value;
      });
      return { type: EventType[event.eventType ?? 0] ?? '', event, largest };
    });
  const text = JSON.stringify(histories, (_key, value: unknown) =>
    value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
  );
  return { runs: runs.length, histories, events, text };
}

describe('a campaign history stays bounded as wells accumulate', () => {
  it("keeps the learner's and the report's inputs out of history, and a large campaign's outcomes out of its result", async () => {
    await withWorkers(env, async (lab) => {
      // 2 pairs × 17 grid doses × 8 replicates: 272 treatment wells and 6 vehicle wells in 3 plates.
      const config = testConfig({ maxIterations: 3, batchSize: 11, replicates: 8, budgetUsd: 5_000 });
      const handle = await startCampaign({ client: env.client, ...lab }, config, `campaign-${config.name}`);
      const results = await completedResults(handle);
      expect(results.status.state).toBe('completed');
      expect(results.outcomes.length).toBeGreaterThan(RESULT_OUTCOMES);

      // The workflow's own result leaves the outcomes out; the paged query gives all of them back.
      const bare = await handle.result();
      expect(bare.outcomes).toEqual([]);
      expect(bare.outcomesOmitted).toBe(results.outcomes.length);
      expect(results.outcomes).toEqual((await handle.query(resultsQuery)).outcomes);
      expect(new Set(results.outcomes.map((o) => o.proposal.proposalId)).size).toBe(results.outcomes.length);

      const { runs, histories, events, text } = await scan(env.client, handle.workflowId);
      expect(runs).toBeGreaterThanOrEqual(1);
      // Every run replays on the current code: local activities and the paged hand-over are deterministic.
      const workflowBundle = await bundleWorkflowCode({
        workflowsPath: WORKFLOWS_PATH,
        logger: new DefaultLogger('ERROR'),
      });
      for (const history of histories)
        await Worker.runReplayHistory({ workflowBundle, replayName: 'bounded' }, history, handle.workflowId);
      // The learner and the report ran as local activities: a marker each, no scheduled activity.
      const scheduled = events.filter((e) => e.type === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
      const names = scheduled.map((e) => e.event.activityTaskScheduledEventAttributes?.activityType?.name);
      expect(names).not.toContain('proposeBatch');
      expect(names).not.toContain('writeCampaignReport');
      expect(events.filter((e) => e.type === 'EVENT_TYPE_MARKER_RECORDED').length).toBeGreaterThanOrEqual(4);
      // What the learner is given (every observation, every vehicle well, every dose tried) is nowhere in history.
      expect(text).not.toContain('controlObservations');
      expect(text).not.toContain('triedDoses');
      // No payload comes near the size of the outcomes themselves.
      const largest = Math.max(...events.map((e) => e.largest));
      expect(largest).toBeLessThan(JSON.stringify(results.outcomes).length / 4);
    });
  });
});
