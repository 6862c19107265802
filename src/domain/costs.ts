import type { Assay } from './types';
import { PRICES, PROTOCOL, TIMINGS } from './prices';

/**
 * Cost of one experiment (one well), split by the step that spends it, so a failed experiment
 * is charged for exactly the steps that physically happened. Pure: the campaign workflow uses it
 * to keep spending within budget and the experiment workflow to report what it spent.
 */
export interface CompoundPricing {
  molecularWeight: number;
  usdPerMg: number;
}

export interface StepCosts {
  seedUsd: number;
  doseUsd: number;
  measureUsd: number;
}

export const COST_CATEGORIES = ['plates', 'tips', 'media', 'compound', 'DMSO', 'reagents', 'instrument time'] as const;
export type CostCategory = (typeof COST_CATEGORIES)[number];

export interface CostLine {
  item: string;
  category: CostCategory;
  usd: number;
}

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6;

export function seedCostLines(assay: Assay): CostLine[] {
  const plate = assay === 'imaging' ? PRICES.plate96ImagingUsd : PRICES.plate96PlainUsd;
  const ml = PROTOCOL.mediumMicrolitres / 1000;
  return [
    { item: 'plate share', category: 'plates', usd: plate / 96 },
    { item: 'tips', category: 'tips', usd: PRICES.tipUsd },
    {
      item: 'medium (DMEM + 10% FBS)',
      category: 'media',
      usd: ml * (1 - PROTOCOL.fbsFraction) * PRICES.dmemUsdPerMl + ml * PROTOCOL.fbsFraction * PRICES.fbsUsdPerMl,
    },
    {
      item: 'liquid handler time',
      category: 'instrument time',
      usd: (TIMINGS.liquidHandlerSecondsPerTransfer / 3600) * PRICES.liquidHandlerUsdPerHour,
    },
  ];
}

export function doseCostLines(doseMicromolar: number, compound: CompoundPricing | undefined): CostLine[] {
  const finalLitres = (PROTOCOL.mediumMicrolitres + PROTOCOL.compoundAdditionMicrolitres) * 1e-6;
  const mg = doseMicromolar * 1e-6 * finalLitres * (compound?.molecularWeight ?? 0) * 1000;
  return [
    { item: 'tips', category: 'tips', usd: PRICES.tipUsd },
    { item: 'compound', category: 'compound', usd: mg * (compound?.usdPerMg ?? 0) },
    { item: 'DMSO', category: 'DMSO', usd: finalLitres * 1000 * PROTOCOL.dmsoFractionOfFinal * PRICES.dmsoUsdPerMl },
    {
      item: 'liquid handler time',
      category: 'instrument time',
      usd: (TIMINGS.liquidHandlerSecondsPerTransfer / 3600) * PRICES.liquidHandlerUsdPerHour,
    },
  ];
}

export function measureCostLines(assay: Assay): CostLine[] {
  switch (assay) {
    case 'viability':
      return [
        { item: 'tips', category: 'tips', usd: PRICES.tipUsd },
        { item: 'viability reagent', category: 'reagents', usd: PRICES.viabilityReagentUsdPerWell },
        {
          item: 'plate reader time',
          category: 'instrument time',
          usd: (TIMINGS.readerSecondsPerWell / 3600) * PRICES.plateReaderUsdPerHour,
        },
      ];
    case 'reporter':
      return [
        { item: 'tips', category: 'tips', usd: PRICES.tipUsd },
        { item: 'reporter substrate', category: 'reagents', usd: PRICES.reporterReagentUsdPerWell },
        {
          item: 'plate reader time',
          category: 'instrument time',
          usd: (TIMINGS.readerSecondsPerWell / 3600) * PRICES.plateReaderUsdPerHour,
        },
      ];
    case 'imaging': {
      const seconds =
        TIMINGS.imagingChannels * TIMINGS.imagingSitesPerWell * TIMINGS.imagingSecondsPerFieldChannel +
        TIMINGS.imagingSecondsPerWell;
      return [
        { item: 'tips', category: 'tips', usd: PRICES.tipUsd },
        { item: 'imaging stains', category: 'reagents', usd: PRICES.imagingStainUsdPerWell },
        { item: 'imager time', category: 'instrument time', usd: (seconds / 3600) * PRICES.imagerUsdPerHour },
      ];
    }
  }
}

const sum = (lines: CostLine[]): number => round(lines.reduce((s, l) => s + l.usd, 0));

export function stepCosts(assay: Assay, doseMicromolar: number, compound: CompoundPricing | undefined): StepCosts {
  return {
    seedUsd: sum(seedCostLines(assay)),
    doseUsd: sum(doseCostLines(doseMicromolar, compound)),
    measureUsd: sum(measureCostLines(assay)),
  };
}

export function experimentCostUsd(assay: Assay, doseMicromolar: number, compound: CompoundPricing | undefined): number {
  const c = stepCosts(assay, doseMicromolar, compound);
  return round(c.seedUsd + c.doseUsd + c.measureUsd);
}

export type ExperimentStep = 'seed' | 'dose' | 'measure';

/** What the steps an experiment really did cost, by category (the ledger view of one well). */
export function costByCategory(
  assay: Assay,
  doseMicromolar: number,
  compound: CompoundPricing | undefined,
  steps: readonly ExperimentStep[],
): Record<CostCategory, number> {
  const totals = Object.fromEntries(COST_CATEGORIES.map((c) => [c, 0])) as Record<CostCategory, number>;
  const lines = [
    ...(steps.includes('seed') ? seedCostLines(assay) : []),
    ...(steps.includes('dose') ? doseCostLines(doseMicromolar, compound) : []),
    ...(steps.includes('measure') ? measureCostLines(assay) : []),
  ];
  for (const line of lines) totals[line.category] += line.usd;
  return totals;
}
