import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/client/campaign-client';
import { testConfig } from '../helpers/configs';
import { openTestEnv, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';

let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('a campaign run by the Bayesian learner', () => {
  it('stops with "goal reached" and its intervals contain the virtual lab\'s true IC50s', async () => {
    await withWorkers(env, async (lab) => {
      const config = testConfig({
        // A fixed name fixes the lab's noise (it is keyed by campaign name and plate): a repeatable run.
        name: 'learner-goal',
        cellLines: ['HEK293T'],
        compounds: ['staurosporine', 'tunicamycin'],
        proposer: 'bayesian',
        objective: { type: 'ic50', halfWidthLog10: 0.15 },
        batchSize: 8,
        controlsPerLine: 2,
        maxIterations: 15,
        budgetUsd: 1000,
        seed: 21,
      });
      const handle = await startCampaign(
        { client: env.client, ...lab },
        config,
        `campaign-${config.name}-${lab.labTaskQueue}`,
      );
      const results = await handle.result();
      expect(results.status.state).toBe('goal reached');
      expect(results.status.iteration).toBeLessThan(15);
      const truth = { staurosporine: 0.05, tunicamycin: 0.8 } as Record<string, number>;
      for (const e of results.status.estimates) {
        expect(e.state).toBe('answered');
        expect(e.ic50LowMicromolar).toBeLessThanOrEqual(truth[e.compound]!);
        expect(e.ic50HighMicromolar).toBeGreaterThanOrEqual(truth[e.compound]!);
        // ±0.15 log units each side at most
        expect(Math.log10(e.ic50HighMicromolar! / e.ic50LowMicromolar!)).toBeLessThanOrEqual(0.3 + 1e-6);
      }
      // The learner used far fewer wells than an 8-point × 3 standard design per pair (24).
      const wells = results.outcomes.filter((o) => !o.proposal.isControl).length;
      expect(wells).toBeLessThan(48);
    });
  });
});
