import { afterEach, describe, expect, it } from 'vitest';
import { doseCostLines, experimentCostUsd, measureCostLines, seedCostLines, stepCosts } from '../../src/domain/costs';
import { PRICES } from '../../src/domain/prices';
import { ASSAYS } from '../../src/domain/types';
import { stepConsumption } from '../../src/inventory/consumption';
import { campaignCosts, experimentCosts, formatBreakdown, totalCost } from '../../src/inventory/ledger';
import { wellForIndex } from '../../src/lab/plate';
import { closeAll, consumeExperiment, type ExperimentPlan, openStore, pricingOf, tempDbPath, usesOf } from './fixtures';

afterEach(closeAll);

const sum = (xs: { usd: number }[]) => xs.reduce((s, x) => s + x.usd, 0);
const lineCost = (lines: { quantity: number; unitCostUsd: number }[]) =>
  lines.reduce((s, l) => s + l.quantity * l.unitCostUsd, 0);

/** A plate's worth of experiments: vehicle controls and a staurosporine dilution series. */
function platePlans(campaignId: string, plateId: string, wells: number, assay: ExperimentPlan['assay']) {
  return Array.from({ length: wells }, (_, i): ExperimentPlan => {
    const control = i % 8 === 0;
    return {
      campaignId,
      experimentWorkflowId: `${campaignId}/e${i}`,
      plateId,
      well: wellForIndex(i),
      compound: control ? '' : 'staurosporine',
      doseMicromolar: control ? 0 : 10 / 3 ** (i % 8),
      assay,
      compoundPricing: pricingOf('staurosporine'),
    };
  });
}

describe('pure consumption priced like the cost functions', () => {
  it.each(ASSAYS)(
    'prices every %s step as costs.ts does, apart from the plate (whole here, a 1/96 share there)',
    (assay) => {
      const pricing = pricingOf('tunicamycin');
      const uses = usesOf({
        campaignId: 'c',
        experimentWorkflowId: 'c/e',
        plateId: 'p',
        well: 'B2',
        compound: 'tunicamycin',
        doseMicromolar: 0.7,
        assay,
        compoundPricing: pricing,
      });
      const plate = assay === 'imaging' ? PRICES.plate96ImagingUsd : PRICES.plate96PlainUsd;
      expect(lineCost(stepConsumption(uses.seed))).toBeCloseTo(sum(seedCostLines(assay)) - plate / 96 + plate, 12);
      expect(lineCost(stepConsumption(uses.dose, 5_000))).toBeCloseTo(sum(doseCostLines(0.7, pricing)), 12);
      expect(lineCost(stepConsumption(uses.measure))).toBeCloseTo(sum(measureCostLines(assay)), 12);
    },
  );

  it('draws dose × final volume / stock concentration of the compound, and DMSO to 0.5% of the final volume', () => {
    const lines = stepConsumption(
      { step: 'dose', location: { plateId: 'p', well: 'A1' }, compound: 'x', doseMicromolar: 2, volumeMicrolitres: 10 },
      1_000,
    );
    expect(lines.map((l) => [l.item, l.quantity, l.unit])).toEqual([
      ['tips', 1, 'tip'],
      ['x', 0.22, 'µL'], // 2 µM × 110 µL / 1000 µM
      ['DMSO', 0.00055, 'mL'], // 0.5% of 110 µL
      ['liquid handler', 8, 's'],
    ]);
  });

  it('refuses a dose that needs more stock than the volume added', () => {
    const use = usesOf({
      campaignId: 'c',
      experimentWorkflowId: 'c/e',
      plateId: 'p',
      well: 'A1',
      compound: 'cisplatin',
      doseMicromolar: 1_000,
      assay: 'viability',
    }).dose;
    expect(() => stepConsumption(use, 3_000)).toThrow(
      /needs 36.666666667 µL of the 3000 µM stock, more than the 10 µL/,
    );
  });
});

describe('ledger totals', () => {
  it('charges each experiment its experimentCostUsd, and a full-plate campaign their sum', () => {
    const store = openStore(tempDbPath());
    const plans = platePlans('full', 'full-p001', 96, 'viability');
    for (const plan of plans) consumeExperiment(store, plan);
    const [campaign] = campaignCosts(store.ledger({ campaignId: 'full' }));
    expect(campaign?.experiments).toHaveLength(96);
    for (const plan of plans) {
      const charged = campaign?.experiments.find((x) => x.experimentWorkflowId === plan.experimentWorkflowId);
      // Both sides are rounded to 1e-6 USD (costs.ts per step and per experiment): equal within 5e-6.
      expect(charged?.totalUsd).toBeCloseTo(
        experimentCostUsd(plan.assay, plan.doseMicromolar, plan.compoundPricing),
        5,
      );
    }
    const expected = plans.reduce((s, p) => s + experimentCostUsd(p.assay, p.doseMicromolar, p.compoundPricing), 0);
    expect(campaign?.totalUsd).toBeCloseTo(expected, 3); // 96 experiments' rounding
    expect(campaign?.unusedPlateWellsUsd).toBeCloseTo(0, 5);
    expect(campaign?.platesOpened).toBe(1);
    expect(campaign?.byCategory.plates).toBe(PRICES.plate96PlainUsd);
  });

  it('matches stepCosts step by step, the opening seed paying for the whole plate', () => {
    const store = openStore(tempDbPath());
    const [first, second] = platePlans('steps', 'steps-p001', 2, 'imaging').map((plan) => ({
      plan,
      receipts: consumeExperiment(store, plan),
    }));
    for (const { plan, receipts } of [first!, second!]) {
      const costs = stepCosts(plan.assay, plan.doseMicromolar, plan.compoundPricing);
      const plateShare = PRICES.plate96ImagingUsd / 96;
      const plateCharge = plan === first!.plan ? PRICES.plate96ImagingUsd : 0;
      expect(receipts.map((r) => r.step)).toEqual(['seed', 'dose', 'measure']);
      expect(receipts[0]?.costUsd).toBeCloseTo(costs.seedUsd - plateShare + plateCharge, 6);
      expect(receipts[1]?.costUsd).toBeCloseTo(costs.doseUsd, 6);
      expect(receipts[2]?.costUsd).toBeCloseTo(costs.measureUsd, 6);
    }
  });

  it('shows the empty wells of a partly used plate at campaign level, not on any experiment', () => {
    const store = openStore(tempDbPath());
    const plans = platePlans('partial', 'partial-p001', 10, 'viability');
    for (const plan of plans) consumeExperiment(store, plan);
    const [campaign] = campaignCosts(store.ledger());
    const charged = plans.reduce((s, p) => s + experimentCostUsd(p.assay, p.doseMicromolar, p.compoundPricing), 0);
    expect(campaign?.unusedPlateWellsUsd).toBeCloseTo((86 / 96) * PRICES.plate96PlainUsd, 4);
    expect(campaign?.totalUsd).toBeCloseTo(charged + (86 / 96) * PRICES.plate96PlainUsd, 4);
    expect(totalCost(store.ledger()).totalUsd).toBe(campaign?.totalUsd);
  });

  it('breaks one experiment down by category', () => {
    const store = openStore(tempDbPath());
    const plan = platePlans('one', 'one-p001', 2, 'viability')[1]!; // 10/3 µM staurosporine
    consumeExperiment(store, platePlans('one', 'one-p001', 1, 'viability')[0]!); // opens the plate
    consumeExperiment(store, plan);
    const mine = experimentCosts(store.ledger()).find((x) => x.experimentWorkflowId === plan.experimentWorkflowId)!;
    const mg = (10 / 3) * 1e-6 * 110e-6 * 466.5 * 1000;
    expect(mine.steps).toEqual(['seed', 'dose', 'measure']);
    expect(mine.byCategory.plates).toBeCloseTo(4 / 96, 6);
    expect(mine.byCategory.tips).toBeCloseTo(3 * 0.18, 6);
    expect(mine.byCategory.media).toBeCloseTo(0.09 * 0.05 + 0.01 * 1.0, 6);
    expect(mine.byCategory.compound).toBeCloseTo(mg * 40, 6);
    expect(mine.byCategory.DMSO).toBeCloseTo(0.00055 * 0.45, 5);
    expect(mine.byCategory.reagents).toBeCloseTo(0.35, 6);
    expect(mine.byCategory['instrument time']).toBeCloseTo((2 * 8 * 30 + (60 / 96) * 20) / 3600, 6); // 2 transfers + a 96th of a plate read
    expect(formatBreakdown(mine)).toMatch(
      /^\$1\.\d\d: plates \$0\.04 · tips \$0\.54 · media \$0\.01 · compound \$0\.\d\d/,
    );
  });

  it('keeps campaigns apart', () => {
    const store = openStore(tempDbPath());
    for (const plan of platePlans('a', 'a-p001', 3, 'viability')) consumeExperiment(store, plan);
    for (const plan of platePlans('b', 'b-p001', 5, 'reporter')) consumeExperiment(store, plan);
    const byCampaign = campaignCosts(store.ledger());
    expect(byCampaign.map((c) => [c.campaignId, c.experiments.length, c.platesOpened])).toEqual([
      ['a', 3, 1],
      ['b', 5, 1],
    ]);
    expect(byCampaign[1]?.items.find((i) => i.item === 'reporter-substrate')?.quantity).toBe(5);
    expect(byCampaign[0]?.items.find((i) => i.item === 'reporter-substrate')).toBeUndefined();
  });
});
