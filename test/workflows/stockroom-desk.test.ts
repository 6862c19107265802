import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeLab, inventoryReport, restock } from '../../src/client/stockroom-client';
import { stockroomDeskWorkflowId } from '../../src/temporal/task-queues';
import { waitFor } from '../helpers/wait';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';

let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

describe("the lab's stockroom desk", () => {
  it('answers restock, inventory and the lab check from one workflow, adding nothing else to the list', async () => {
    await withWorkers(env, async (lab) => {
      const opts = { client: env.client, ...lab };
      const catalogue = await describeLab(opts);
      expect(catalogue.cellLines.length).toBeGreaterThan(0);
      const record = await restock(opts, { item: 'tips', amount: 96, lot: 'T-1' });
      expect(record.levelAfter).toBe(record.levelBefore + 96);
      const report = await inventoryReport(opts);
      expect(report.items.find((i) => i.item === record.item)?.level).toBe(record.levelAfter);
      await restock(opts, { item: 'tips', amount: 10 });

      const list = async () => {
        const found: { id: string; type: string }[] = [];
        for await (const wf of env.client.workflow.list({ query: `TaskQueue = '${lab.orchestrationTaskQueue}'` }))
          found.push({ id: wf.workflowId, type: wf.type });
        return found;
      };
      // Visibility is eventually consistent: wait for the desk to be listed.
      const listed = await waitFor(list, (found) => found.some((w) => w.type === 'stockroomDeskWorkflow'), 15_000);
      const desks = listed.filter((w) => w.type === 'stockroomDeskWorkflow');
      expect(desks).toEqual([{ id: stockroomDeskWorkflowId(lab.labTaskQueue), type: 'stockroomDeskWorkflow' }]);
      expect(listed.filter((w) => /restock|inventoryReport|labCatalogue/.test(w.type))).toEqual([]);
    });
  });
});
