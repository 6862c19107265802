import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignView, startCampaign } from '../../src/client/campaign-client';
import { watchCampaign } from '../../src/client/watch';
import { queuesCampaignNeeds, silentQueues } from '../../src/client/workers-check';
import { testConfig } from '../helpers/configs';
import { waitFor } from '../helpers/wait';
import { openTestEnv, uniqueName, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';

let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('watch, the worker check and starting twice, on the real dev server', () => {
  it('finds the queues nobody polls, watches a campaign to its end, and refuses its id again without --rerun', async () => {
    await withWorkers(env, async (lab) => {
      const opts = { client: env.client, ...lab };
      const served = queuesCampaignNeeds({ ...lab, assay: 'viability' });
      // Workers start polling within moments of starting.
      expect(
        await waitFor(
          () => silentQueues(opts, served),
          (silent) => silent.length === 0,
          15_000,
        ),
      ).toEqual([]);
      const nobody = queuesCampaignNeeds({ orchestrationTaskQueue: uniqueName('o'), labTaskQueue: uniqueName('l') });
      expect((await silentQueues(opts, nobody)).map((q) => q.name)).toEqual(nobody.map((q) => q.name));

      const config = testConfig({ maxIterations: 2 });
      const id = `campaign-${config.name}`;
      await startCampaign(opts, config, id);
      const frames: string[] = [];
      const final = await watchCampaign(opts, config.name, (t) => frames.push(t), { intervalMs: 500 });
      expect(final.state).toBe('completed');
      expect(frames.length).toBeGreaterThan(1);
      expect(frames.some((f) => /batch\s+[12] of 2 \(running/.test(f))).toBe(true);
      expect(frames.at(-1)).toMatch(/ended\s+completed; report: \S+\.html/);
      expect(frames.join('')).not.toContain('\x1b['); // not a terminal: no escape codes

      await expect(startCampaign(opts, config, id)).rejects.toThrow(/has already run.*--rerun/);
      const again = await startCampaign(opts, config, id, undefined, { rerun: true });
      expect(again.workflowId).toBe(id);
      await again.result();
    });
  });

  it('says when a delayed start is still ahead, and answers before any worker runs it', async () => {
    const config = testConfig();
    const id = `campaign-${config.name}`;
    const opts = { client: env.client, orchestrationTaskQueue: uniqueName('nobody'), labTaskQueue: uniqueName('lab') };
    const handle = await startCampaign(opts, config, id, 3_600_000);
    try {
      const view = await campaignView(opts, config.name);
      expect(view.status.state).toBe('scheduled');
      expect(view.startsAt!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
      expect(view.status.detail).toMatch(/^starts at \d{4}-\d\d-\d\dT.*\(in (59|60) min\)$/);
      expect(view.status.name).toBe(config.name);
      expect(view.status.budgetUsd).toBe(config.budgetUsd);
    } finally {
      await handle.terminate('test finished');
    }
  });
});
