import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/client/campaign-client';
import { inventoryReport, restock } from '../../src/client/stockroom-client';
import { ITEMS } from '../../src/inventory/consumption';
import { DEFAULT_STOCK } from '../../src/inventory/default-stock';
import { statusQuery, stopSignal } from '../../src/temporal/messages';
import { NOT_RUN_STOPPED } from '../../src/domain/failures';
import { auditCampaign } from '../../src/lab/campaign-audit';
import { profilePricing } from '../../src/lab/catalogue';
import { LabStore } from '../../src/lab/lab-store';
import { builtinLabProfile } from '../../src/config/lab-profile';
import { testConfig } from '../helpers/configs';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';

let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('lab inventory', () => {
  it('makes experiments wait when tips run out, says what is missing, and continues after a restock', async () => {
    // 6 wells need 18 tips (seed, dose, reagent); the lab has 10.
    const initialStock = DEFAULT_STOCK.map((item) => (item.item === ITEMS.tips ? { ...item, level: 10 } : item));
    await withWorkers(
      env,
      async (lab) => {
        const opts = { client: env.client, ...lab };
        const config = testConfig({ maxIterations: 1 });
        const handle = await startCampaign(opts, config, `campaign-${config.name}`);
        const deadline = Date.now() + 60_000;
        let status = await handle.query(statusQuery);
        while (!status.waitingFor.some((w) => w.kind === 'stock' && w.instrument.includes('tips'))) {
          if (Date.now() > deadline) throw new Error(`never waited for tips: ${JSON.stringify(status)}`);
          await new Promise((r) => setTimeout(r, 200));
          status = await handle.query(statusQuery);
        }
        expect(status.state).toBe('running');
        const before = await inventoryReport(opts);
        // Seeding drew 6 tips; the dose step needs 6 and draws none of them until it can draw all.
        expect(before.items.find((i) => i.item === ITEMS.tips)?.level).toBe(10 - 6);

        const record = await restock(opts, { item: 'tips', amount: 96, lot: 'T-2026-11' });
        expect(record.levelAfter).toBe(96 + 4);
        const results = await handle.result();
        expect(results.outcomes.every((o) => o.status === 'succeeded')).toBe(true);

        const after = await inventoryReport(opts, `campaign-${config.name}`);
        expect(after.items.find((i) => i.item === ITEMS.tips)?.level).toBe(96 + 10 - 18);
        const usage = after.campaigns.find((c) => c.campaignId === `campaign-${config.name}`)!;
        // One cost model: the ledger and the campaign's status both charge the whole plate.
        expect(usage.unusedWells).toBe(96 - results.outcomes.length);
        expect(usage.totalUsd).toBeCloseTo(results.status.spentUsd, 2);
      },
      { initialStock },
    );
  });

  it('stops a campaign whose plate waits for stock at once: the wells not yet dosed end as not run (stopped), charged only for their seeding', async () => {
    const initialStock = DEFAULT_STOCK.map((item) => (item.item === ITEMS.tips ? { ...item, level: 10 } : item));
    await withWorkers(
      env,
      async (lab) => {
        const opts = { client: env.client, ...lab };
        const config = testConfig({ maxIterations: 3 });
        const handle = await startCampaign(opts, config, `campaign-${config.name}`);
        const deadline = Date.now() + 60_000;
        while (!(await handle.query(statusQuery)).waitingFor.some((w) => w.kind === 'stock')) {
          if (Date.now() > deadline) throw new Error('never waited for stock');
          await new Promise((r) => setTimeout(r, 200));
        }
        const stoppedAt = Date.now();
        await handle.signal(stopSignal, { reason: 'no tips until Monday' });
        const results = await handle.result();
        expect(Date.now() - stoppedAt).toBeLessThan(15_000); // not the next restock, not the 1-minute backoff
        expect(results.status.state).toBe('stopped');
        expect(results.status.iteration).toBe(1);
        expect(results.outcomes).toHaveLength(6);
        for (const o of results.outcomes) {
          expect(o.status).toBe('failed');
          expect(o.failure?.type).toBe(NOT_RUN_STOPPED);
          expect(o.failure?.message).toMatch(/not run \(stopped before dose\): no tips until Monday/);
          expect(o.completedSteps).toEqual(['seed']);
          expect(o.costUsd).toBeGreaterThan(0);
        }
        const store = LabStore.open(lab.labDbPath);
        try {
          const audit = auditCampaign({ results, store, compounds: profilePricing(builtinLabProfile()) });
          expect(audit.problems).toEqual([]); // spend equals the seeding the lab did
          expect(store.listOperations({ kind: 'dose' })).toEqual([]);
        } finally {
          store.close();
        }
      },
      { initialStock },
    );
  });

  it('refuses a bad restock with the field and what is allowed, and changes nothing', async () => {
    await withWorkers(env, async (lab) => {
      const opts = { client: env.client, ...lab };
      await expect(restock(opts, { item: 'tips', amount: -5 })).rejects.toThrow(/amount.*positive/);
      await expect(restock(opts, { item: 'unobtainium', amount: 5 })).rejects.toThrow(/unobtainium/);
      const report = await inventoryReport(opts);
      expect(report.items.find((i) => i.item === ITEMS.tips)?.level).toBe(
        DEFAULT_STOCK.find((i) => i.item === ITEMS.tips)!.level,
      );
    });
  });
});
