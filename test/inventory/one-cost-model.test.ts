import { afterEach, describe, expect, it } from 'vitest';
import { instrumentTimings, labConfigSchema } from '../../src/config/lab-config';
import { COST_CATEGORIES } from '../../src/domain/costs';
import type { LabCatalogue } from '../../src/domain/lab-catalogue';
import type { ExperimentOutcome, Proposal } from '../../src/domain/types';
import { InventoryStore } from '../../src/inventory/inventory-store';
import { campaignCosts, experimentCosts } from '../../src/inventory/ledger';
import { wellForIndex } from '../../src/lab/plate';
import { CampaignStateModel } from '../../src/workflows/campaign-state';
import { testConfig } from '../helpers/configs';
import { pricingOf, tempDbPath, usesOf } from './fixtures';

/**
 * `status` (the campaign's state) and `inventory` (the lab's ledger) read one cost model, so they
 * show the same spend for the same campaign: plates whole, at the lab config's instrument timings.
 */
const stores: InventoryStore[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

// A lab whose instruments are slower than the built-in one's.
const labConfig = labConfigSchema.parse({
  liquidHandler: { secondsPerTransfer: 20 },
  plateReader: { secondsPerWell: 9 },
  imager: { secondsPerWell: 60 },
});
const STEPS = ['seed', 'dose', 'measure'] as const;

describe('one cost model for status and the ledger', () => {
  it.each(['viability', 'imaging'] as const)(
    'a %s campaign that used 10 wells of its plate, two failing part-way, shows the same spend in both',
    (assay) => {
      const store = InventoryStore.open(tempDbPath(), { instrumentTimings: instrumentTimings(labConfig) });
      stores.push(store);
      const state = CampaignStateModel.fresh('campaign-costs', testConfig({ assay }), 'costs');
      state.learnLab({
        compounds: [{ compound: 'staurosporine', ...pricingOf('staurosporine') }],
        instrumentTimings: instrumentTimings(labConfig),
      } as unknown as LabCatalogue);
      for (let i = 0; i < 10; i++) {
        const isControl = i % 5 === 0;
        const proposal: Proposal = {
          proposalId: `e${i}`,
          cellLine: 'U2OS',
          compound: isControl ? '' : 'staurosporine',
          doseMicromolar: isControl ? 0 : 0.01 * (i + 1),
          assay,
          isControl,
        };
        const location = { plateId: 'costs-p001', well: wellForIndex(i) };
        // Well 3 failed after seeding, well 7 after dosing.
        const done = i === 3 ? STEPS.slice(0, 1) : i === 7 ? STEPS.slice(0, 2) : STEPS;
        const uses = usesOf({
          campaignId: 'campaign-costs',
          experimentWorkflowId: `campaign-costs/e${i}`,
          ...location,
          compound: proposal.compound,
          doseMicromolar: proposal.doseMicromolar,
          assay,
          ...(!isControl && { compoundPricing: pricingOf('staurosporine') }),
        });
        for (const step of done)
          store.consume({
            operationKey: `campaign-costs/e${i}/${step}`,
            campaignId: 'campaign-costs',
            experimentWorkflowId: `campaign-costs/e${i}`,
            use: uses[step],
          });
        const outcome: ExperimentOutcome = {
          proposal,
          location,
          experimentWorkflowId: `campaign-costs/e${i}`,
          status: done.length === 3 ? 'succeeded' : 'failed',
          costUsd: 0, // the campaign prices the steps itself
          completedSteps: [...done],
          iteration: 1,
        };
        state.recordOutcome(outcome);
      }
      const status = state.status();
      const [ledger] = campaignCosts(store.ledger({ campaignId: 'campaign-costs' }));
      expect(ledger!.platesOpened).toBe(1);
      expect(ledger!.unusedWells).toBe(86);
      expect(status.spentUsd).toBe(Math.round(ledger!.totalUsd * 100) / 100);
      for (const c of COST_CATEGORIES)
        expect(status.spentByCategory[c], c).toBe(Math.round(ledger!.byCategory[c] * 100) / 100);
      // Each experiment's cost in `results` is its cost in the ledger.
      const byExperiment = new Map(experimentCosts(store.ledger()).map((x) => [x.experimentWorkflowId, x.totalUsd]));
      for (const o of state.snapshot.outcomes)
        expect(o.costUsd).toBeCloseTo(byExperiment.get(o.experimentWorkflowId)!, 6);
      // Instrument time is charged at the lab's timings: 20 s per transfer, not the built-in 8 s.
      const seedTime = store
        .ledger({ operationKey: 'campaign-costs/e0/seed' })
        .find((e) => e.item === 'liquid handler');
      expect(seedTime?.quantity).toBe(20);
    },
  );

  it('the budget commits a whole plate for a batch: unused wells included', () => {
    const state = CampaignStateModel.fresh('campaign-budget', testConfig({ budgetUsd: 1000 }), 'b');
    const proposal = (id: string): Proposal => ({
      proposalId: id,
      cellLine: 'U2OS',
      compound: 'staurosporine',
      doseMicromolar: 1,
      assay: 'viability',
      isControl: false,
    });
    state.running.set('e1', {
      proposal: proposal('e1'),
      location: { plateId: 'b-p001', well: 'A1' },
      workflowId: 'campaign-budget/e1',
      committedUsd: state.costOf(proposal('e1')),
    });
    // One well on a fresh $4 plate: the well, plus the 95 wells nobody else will use.
    expect(state.committedUsd).toBeCloseTo(state.costOf(proposal('e1')) + (4 * 95) / 96, 5);
  });
});
