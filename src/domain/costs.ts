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

export interface CostLine {
  item: string;
  usd: number;
}

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6;

export function seedCostLines(assay: Assay): CostLine[] {
  const plate = assay === 'imaging' ? PRICES.plate96ImagingUsd : PRICES.plate96PlainUsd;
  const ml = PROTOCOL.mediumMicrolitres / 1000;
  return [
    { item: 'plate share', usd: plate / 96 },
    { item: 'tips', usd: PRICES.tipUsd },
    {
      item: 'medium (DMEM + 10% FBS)',
      usd: ml * (1 - PROTOCOL.fbsFraction) * PRICES.dmemUsdPerMl + ml * PROTOCOL.fbsFraction * PRICES.fbsUsdPerMl,
    },
    {
      item: 'liquid handler time',
      usd: (TIMINGS.liquidHandlerSecondsPerTransfer / 3600) * PRICES.liquidHandlerUsdPerHour,
    },
  ];
}

export function doseCostLines(doseMicromolar: number, compound: CompoundPricing | undefined): CostLine[] {
  const finalLitres = (PROTOCOL.mediumMicrolitres + PROTOCOL.compoundAdditionMicrolitres) * 1e-6;
  const mg = doseMicromolar * 1e-6 * finalLitres * (compound?.molecularWeight ?? 0) * 1000;
  return [
    { item: 'tips', usd: PRICES.tipUsd },
    { item: 'compound', usd: mg * (compound?.usdPerMg ?? 0) },
    { item: 'DMSO', usd: finalLitres * 1000 * PROTOCOL.dmsoFractionOfFinal * PRICES.dmsoUsdPerMl },
    {
      item: 'liquid handler time',
      usd: (TIMINGS.liquidHandlerSecondsPerTransfer / 3600) * PRICES.liquidHandlerUsdPerHour,
    },
  ];
}

export function measureCostLines(assay: Assay): CostLine[] {
  switch (assay) {
    case 'viability':
      return [
        { item: 'tips', usd: PRICES.tipUsd },
        { item: 'viability reagent', usd: PRICES.viabilityReagentUsdPerWell },
        { item: 'plate reader time', usd: (TIMINGS.readerSecondsPerWell / 3600) * PRICES.plateReaderUsdPerHour },
      ];
    case 'reporter':
      return [
        { item: 'tips', usd: PRICES.tipUsd },
        { item: 'reporter substrate', usd: PRICES.reporterReagentUsdPerWell },
        { item: 'plate reader time', usd: (TIMINGS.readerSecondsPerWell / 3600) * PRICES.plateReaderUsdPerHour },
      ];
    case 'imaging': {
      const seconds =
        TIMINGS.imagingChannels * TIMINGS.imagingSitesPerWell * TIMINGS.imagingSecondsPerFieldChannel +
        TIMINGS.imagingSecondsPerWell;
      return [
        { item: 'tips', usd: PRICES.tipUsd },
        { item: 'imaging stains', usd: PRICES.imagingStainUsdPerWell },
        { item: 'imager time', usd: (seconds / 3600) * PRICES.imagerUsdPerHour },
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
