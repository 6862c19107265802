import { describe, expect, it } from 'vitest';
import { costByCategory, experimentCostUsd, stepCosts, COST_CATEGORIES } from '../../src/domain/costs';
import { normalisePlates } from '../../src/domain/normalise';
import type { ExperimentOutcome, Proposal } from '../../src/domain/types';
import { CampaignStateModel } from '../../src/workflows/campaign-state';
import { testConfig } from '../helpers/configs';

const tunicamycin = { molecularWeight: 844.9, usdPerMg: 50 };

describe('experiment costs', () => {
  it('prices a viability well from the DOMAIN price table', () => {
    const c = stepCosts('viability', 0, undefined);
    // plate $4/96 + tip $0.18 + 90 µL DMEM + 10 µL FBS + 8 s of liquid handler at $30/h
    expect(c.seedUsd).toBeCloseTo(4 / 96 + 0.18 + 0.09 * 0.05 + 0.01 * 1 + (8 / 3600) * 30, 6);
    expect(c.measureUsd).toBeCloseTo(0.18 + 0.35 + (60 / 96 / 3600) * 20, 6); // a 96th of a 60 s plate read
  });

  it('charges more compound for a higher dose, at the compound price per mg', () => {
    const low = experimentCostUsd('viability', 0.1, tunicamycin);
    const high = experimentCostUsd('viability', 10, tunicamycin);
    // 10 µM in 110 µL = 1.1 nmol = 0.93 µg of tunicamycin at $50/mg ≈ $0.046
    expect(high - low).toBeCloseTo((10 - 0.1) * 1e-6 * 110e-6 * 844.9 * 1000 * 50, 5);
  });

  it('imaging costs more than viability (imaging plates, imager time)', () => {
    expect(experimentCostUsd('imaging', 1, tunicamycin)).toBeGreaterThan(
      experimentCostUsd('viability', 1, tunicamycin),
    );
  });

  it('splits the cost of the steps done by category, and the parts add up', () => {
    const all = costByCategory('viability', 1, tunicamycin, ['seed', 'dose', 'measure']);
    const sum = COST_CATEGORIES.reduce((s, c) => s + all[c], 0);
    expect(sum).toBeCloseTo(experimentCostUsd('viability', 1, tunicamycin), 5);
    const seededOnly = costByCategory('viability', 1, tunicamycin, ['seed']);
    expect(seededOnly.compound).toBe(0);
    expect(seededOnly.reagents).toBe(0);
    expect(seededOnly.plates).toBeCloseTo(4 / 96, 6);
  });
});

const proposal = (id: string, over: Partial<Proposal> = {}): Proposal => ({
  proposalId: id,
  cellLine: 'U2OS',
  compound: 'staurosporine',
  doseMicromolar: 1,
  assay: 'viability',
  isControl: false,
  ...over,
});

describe('campaign state', () => {
  it('shrinks a batch to fit the money left and keeps the controls its lines need', () => {
    const state = CampaignStateModel.fresh('campaign-x', testConfig({ budgetUsd: 7 }), 'x');
    const batch = state.fitToBudget([
      proposal('e1'),
      proposal('e2', { cellLine: 'HEK293T' }),
      proposal('e3'),
      proposal('c1', { compound: '', doseMicromolar: 0, isControl: true }),
      proposal('c2', { compound: '', doseMicromolar: 0, isControl: true, cellLine: 'HEK293T' }),
    ]);
    // ~$1.09 a well and the batch's own $4 plate charged whole: e1 + its U2OS control cost
    // $2.18 + $3.92 of unused wells = $6.10; adding e2 and the HEK293T control would be $8.19.
    expect(batch?.map((p) => p.proposalId)).toEqual(['e1', 'c1']);
    const cost = batch!.reduce((s, p) => s + state.costOf(p), 0) + (4 * 94) / 96;
    expect(cost).toBeLessThanOrEqual(7);
    expect(cost).toBeGreaterThan(6);
  });

  it('refuses to fit anything once not even one treatment and its control fit', () => {
    const state = CampaignStateModel.fresh('campaign-x', testConfig({ budgetUsd: 1 }), 'x');
    expect(
      state.fitToBudget([proposal('e1'), proposal('c1', { compound: '', doseMicromolar: 0, isControl: true })]),
    ).toBeUndefined();
  });

  it('refuses budgets below what is spent and names the allowed minimum', () => {
    const state = CampaignStateModel.fresh('campaign-x', testConfig({ budgetUsd: 100 }), 'x');
    state.recordOutcome(outcome('e1', 3.5, 100));
    // The well as the cost model prices its steps, plus the 95 empty wells of the plate it opened.
    const spent = experimentCostUsd('viability', 1, undefined) + (4 * 95) / 96;
    expect(state.spentUsd).toBeCloseTo(spent, 5);
    expect(state.budgetProblem(2)).toMatch(new RegExp(`below what is already spent.*at least ${spent.toFixed(2)}`));
    expect(state.budgetProblem(Number.NaN)).toMatch(/finite number/);
    expect(state.budgetProblem(50)).toBeUndefined();
  });

  it('records each proposal once, whatever order and however often results arrive', () => {
    const state = CampaignStateModel.fresh('campaign-x', testConfig(), 'x');
    state.recordOutcome(outcome('e2', 1, 10));
    state.recordOutcome(outcome('e1', 1, 20));
    state.recordOutcome(outcome('e2', 1, 999));
    expect(state.snapshot.outcomes.map((o) => o.proposal.proposalId)).toEqual(['e2', 'e1']);
    expect(state.snapshot.outcomes[0]!.readout?.signal).toBe(10);
  });
});

function outcome(id: string, costUsd: number, signal: number, over: Partial<Proposal> = {}): ExperimentOutcome {
  return {
    proposal: proposal(id, over),
    location: { plateId: 'p1', well: 'B2' },
    experimentWorkflowId: `campaign-x/${id}`,
    status: 'succeeded',
    readout: { assay: 'viability', signal },
    costUsd,
    iteration: 1,
    completedSteps: ['seed', 'dose', 'measure'],
  };
}

describe('normalisation to vehicle controls', () => {
  it('divides by the mean of the same line on the same plate, and leaves wells without a control alone', () => {
    const out = normalisePlates([
      outcome('c1', 1, 1000, { isControl: true, compound: '', doseMicromolar: 0 }),
      outcome('c2', 1, 1200, { isControl: true, compound: '', doseMicromolar: 0 }),
      outcome('e1', 1, 550),
      outcome('e2', 1, 550, { cellLine: 'HEK293T' }),
    ]);
    expect(out.find((o) => o.proposal.proposalId === 'e1')?.normalisedResponse).toBeCloseTo(0.5, 5);
    expect(out.find((o) => o.proposal.proposalId === 'c1')?.normalisedResponse).toBeCloseTo(1000 / 1100, 5);
    expect(out.find((o) => o.proposal.proposalId === 'e2')?.normalisedResponse).toBeUndefined();
  });
});
