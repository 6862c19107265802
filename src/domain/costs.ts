import type { Assay, WellLocation } from './types';
import { PRICES, PROTOCOL, TIMINGS } from './prices';

/**
 * The one cost model. Every physical step becomes priced lines (item, quantity, unit, unit price),
 * and everything that shows money reads them: the campaign's budget and `status`, each
 * experiment's cost in `results`, the stock ledger (`inventory`, ../inventory/consumption.ts
 * draws stock by these very lines) and the report. Pure and free of Temporal and Node, so workflow
 * code may import it.
 *
 * How plates are charged: a plate is charged whole, to the campaign whose first seed opened it.
 * Each well carries its share (price / 96) in its seed step, so an experiment's cost is the cost
 * of its well; the wells of an opened plate that no experiment used are charged to the campaign
 * as "unused plate wells" (campaignSpend, and the ledger's unusedPlateWellsUsd), so a campaign's
 * spend in `status` equals its spend in `inventory`.
 *
 * Instrument time is priced at the lab's timings (CELLOS_LAB_CONFIG: secondsPerTransfer,
 * secondsPerWell), which the lab publishes in its catalogue; DEFAULT_INSTRUMENT_TIMINGS are the
 * built-in lab's.
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

/** Seconds of instrument time one operation takes, as the lab config states them. */
export interface InstrumentTimings {
  liquidHandlerSecondsPerTransfer: number;
  readerSecondsPerWell: number;
  imagerSecondsPerWell: number;
}

export const DEFAULT_INSTRUMENT_TIMINGS: InstrumentTimings = {
  liquidHandlerSecondsPerTransfer: TIMINGS.liquidHandlerSecondsPerTransfer,
  readerSecondsPerWell: TIMINGS.readerSecondsPerWell,
  imagerSecondsPerWell:
    TIMINGS.imagingChannels * TIMINGS.imagingSitesPerWell * TIMINGS.imagingSecondsPerFieldChannel +
    TIMINGS.imagingSecondsPerWell,
};

export const WELLS_PER_PLATE = 96;

export const COST_CATEGORIES = ['plates', 'tips', 'media', 'compound', 'DMSO', 'reagents', 'instrument time'] as const;
export type CostCategory = (typeof COST_CATEGORIES)[number];

export const STEPS = ['seed', 'dose', 'measure'] as const;
export type Step = (typeof STEPS)[number];
export type ExperimentStep = Step;

/** Names of the stocked consumables, as a person types them in `cellos restock <item> <amount>`. */
export const ITEMS = {
  plate96: 'plate-96',
  plate96Imaging: 'plate-96-imaging',
  tips: 'tips',
  dmem: 'DMEM',
  fbs: 'FBS',
  dmso: 'DMSO',
  viabilityReagent: 'viability-reagent',
  reporterSubstrate: 'reporter-substrate',
  imagingStain: 'imaging-stain',
} as const;

/** Instruments whose time is charged per second; they appear in the ledger but hold no stock. */
export const INSTRUMENTS = {
  liquidHandler: 'liquid handler',
  plateReader: 'plate reader',
  imager: 'imager',
} as const;

/** Units, each named once: stock levels, consumption and restocks of an item share its unit. */
export const UNITS = {
  plate: 'plate',
  tip: 'tip',
  millilitre: 'mL',
  microlitre: 'µL',
  /** One well's worth of an assay reagent, as kits are sold (e.g. "1,000 assays"). */
  wellDose: 'well',
  second: 's',
} as const;

/** One physical step of one experiment, with what decides its consumption. */
export type StepUse = SeedUse | DoseUse | MeasureUse;

export interface SeedUse {
  step: 'seed';
  location: WellLocation;
  /** Imaging needs imaging-grade plates. */
  assay: Assay;
  /** Complete medium (DMEM + FBS) dispensed with the cells. */
  volumeMicrolitres: number;
}

export interface DoseUse {
  step: 'dose';
  location: WellLocation;
  /** '' with dose 0 for a vehicle (DMSO) control. */
  compound: string;
  doseMicromolar: number;
  /** Volume added to the well (compound diluted in medium, DMSO to its final fraction). */
  volumeMicrolitres: number;
  /** Liquid already in the well; defaults to the protocol's seeding volume. */
  wellVolumeMicrolitres?: number;
  /** Prices the compound drawn; absent means the compound is free. */
  compoundPricing?: CompoundPricing;
}

export interface MeasureUse {
  step: 'measure';
  location: WellLocation;
  assay: Assay;
}

/** One priced line. `stocked: false` lines (instrument time) draw on no stock. */
export interface PricedLine {
  item: string;
  category: CostCategory;
  quantity: number;
  unit: string;
  unitCostUsd: number;
  stocked: boolean;
  /** Set on a plate line: the plate is consumed once per plate id, by the first seed on it. */
  onceForPlate?: string;
}

/** A priced line as a budget reads it. */
export interface CostLine {
  item: string;
  category: CostCategory;
  usd: number;
}

/**
 * The lines one step uses, the whole plate included on a seed (the stock view: the first seed on
 * a plate draws it). `stockConcentrationMicromolar` is that of the dosed compound's stock
 * (required when a compound is dosed). Throws a RangeError for a request no lab could carry out: a
 * negative dose, a dose of nothing, or a dose that needs more stock than the added volume.
 */
export function stepLines(
  use: StepUse,
  stockConcentrationMicromolar?: number,
  timings: InstrumentTimings = DEFAULT_INSTRUMENT_TIMINGS,
): PricedLine[] {
  switch (use.step) {
    case 'seed':
      return seedLines(use, timings);
    case 'dose':
      return doseLines(use, stockConcentrationMicromolar, timings);
    case 'measure':
      return measureLines(use, timings);
  }
}

/** True when a dose step draws compound from stock (not a vehicle control). */
export function drawsCompound(use: StepUse): use is DoseUse {
  return use.step === 'dose' && use.compound !== '' && use.doseMicromolar > 0;
}

/** The plate item a seed for this assay opens. */
export function plateItemFor(assay: Assay): string {
  return assay === 'imaging' ? ITEMS.plate96Imaging : ITEMS.plate96;
}

/** Price of one plate of this item, from PRICES. */
export function platePriceUsd(item: string): number {
  return item === ITEMS.plate96Imaging ? PRICES.plate96ImagingUsd : PRICES.plate96PlainUsd;
}

/** Price of the whole plate a batch of this assay opens. */
export function plateCostUsd(assay: Assay): number {
  return platePriceUsd(plateItemFor(assay));
}

// --- One well, as the budget sees it: protocol volumes, the plate as the well's share ---

const NOMINAL_WELL: WellLocation = { plateId: 'budget', well: 'A1' };

export function seedCostLines(assay: Assay, timings: InstrumentTimings = DEFAULT_INSTRUMENT_TIMINGS): CostLine[] {
  return stepLines(
    { step: 'seed', location: NOMINAL_WELL, assay, volumeMicrolitres: PROTOCOL.mediumMicrolitres },
    undefined,
    timings,
  ).map((l) =>
    l.category === 'plates'
      ? { item: 'plate share', category: l.category, usd: (l.quantity * l.unitCostUsd) / WELLS_PER_PLATE }
      : asCostLine(l),
  );
}

export function doseCostLines(
  doseMicromolar: number,
  compound: CompoundPricing | undefined,
  timings: InstrumentTimings = DEFAULT_INSTRUMENT_TIMINGS,
): CostLine[] {
  const use: DoseUse = {
    step: 'dose',
    location: NOMINAL_WELL,
    compound: doseMicromolar > 0 ? 'compound' : '',
    doseMicromolar: Math.max(0, doseMicromolar),
    volumeMicrolitres: PROTOCOL.compoundAdditionMicrolitres,
    ...(compound && { compoundPricing: compound }),
  };
  // What the compound costs does not depend on the stock's strength (a weaker stock draws more of
  // it, each µL cheaper): price it at the weakest stock that can make the dose.
  const finalMicrolitres = PROTOCOL.mediumMicrolitres + PROTOCOL.compoundAdditionMicrolitres;
  const stock = (use.doseMicromolar * finalMicrolitres) / PROTOCOL.compoundAdditionMicrolitres;
  return stepLines(use, stock > 0 ? stock : undefined, timings).map(asCostLine);
}

export function measureCostLines(assay: Assay, timings: InstrumentTimings = DEFAULT_INSTRUMENT_TIMINGS): CostLine[] {
  return stepLines({ step: 'measure', location: NOMINAL_WELL, assay }, undefined, timings).map(asCostLine);
}

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6;
const sum = (lines: CostLine[]): number => round(lines.reduce((s, l) => s + l.usd, 0));

export function stepCosts(
  assay: Assay,
  doseMicromolar: number,
  compound: CompoundPricing | undefined,
  timings: InstrumentTimings = DEFAULT_INSTRUMENT_TIMINGS,
): StepCosts {
  return {
    seedUsd: sum(seedCostLines(assay, timings)),
    doseUsd: sum(doseCostLines(doseMicromolar, compound, timings)),
    measureUsd: sum(measureCostLines(assay, timings)),
  };
}

export function experimentCostUsd(
  assay: Assay,
  doseMicromolar: number,
  compound: CompoundPricing | undefined,
  timings: InstrumentTimings = DEFAULT_INSTRUMENT_TIMINGS,
): number {
  const c = stepCosts(assay, doseMicromolar, compound, timings);
  return round(c.seedUsd + c.doseUsd + c.measureUsd);
}

/** What the steps an experiment really did cost, by category (the ledger view of one well). */
export function costByCategory(
  assay: Assay,
  doseMicromolar: number,
  compound: CompoundPricing | undefined,
  steps: readonly ExperimentStep[],
  timings: InstrumentTimings = DEFAULT_INSTRUMENT_TIMINGS,
): Record<CostCategory, number> {
  const totals = emptyTotals();
  const lines = [
    ...(steps.includes('seed') ? seedCostLines(assay, timings) : []),
    ...(steps.includes('dose') ? doseCostLines(doseMicromolar, compound, timings) : []),
    ...(steps.includes('measure') ? measureCostLines(assay, timings) : []),
  ];
  for (const line of lines) totals[line.category] += line.usd;
  return totals;
}

// --- A campaign: its wells plus the unused wells of the plates it opened ---

export interface WellSpend {
  proposal: { assay: Assay; doseMicromolar: number };
  location: { plateId: string };
  completedSteps?: readonly ExperimentStep[];
  /** The compound's price; undefined for a control or an unpriced compound. */
  pricing: CompoundPricing | undefined;
  /** The well's cost by category when the caller has it already (costByCategory of the same well). */
  costs?: Record<CostCategory, number>;
}

export interface CampaignSpend {
  totalUsd: number;
  byCategory: Record<CostCategory, number>;
  /** What the wells themselves cost (their plate shares included). */
  wellsUsd: number;
  /** Plates at least one well was seeded on. */
  platesOpened: number;
  /** Wells of those plates no experiment was seeded in, and what they cost. */
  unusedWells: number;
  unusedPlateWellsUsd: number;
}

/**
 * What a campaign has spent: each well's steps done, plus, for every plate it opened, the wells
 * left empty, so plates count whole. The ledger's campaignCosts gives the same figures.
 */
export function campaignSpend(
  wells: readonly WellSpend[],
  timings: InstrumentTimings = DEFAULT_INSTRUMENT_TIMINGS,
): CampaignSpend {
  const byCategory = emptyTotals();
  const seededPerPlate = new Map<string, { assay: Assay; wells: number }>();
  let wellsUsd = 0;
  for (const w of wells) {
    const steps = w.completedSteps ?? [];
    const well = w.costs ?? costByCategory(w.proposal.assay, w.proposal.doseMicromolar, w.pricing, steps, timings);
    for (const c of COST_CATEGORIES) {
      byCategory[c] += well[c];
      wellsUsd += well[c];
    }
    if (steps.includes('seed')) {
      const plate = seededPerPlate.get(w.location.plateId) ?? { assay: w.proposal.assay, wells: 0 };
      plate.wells++;
      seededPerPlate.set(w.location.plateId, plate);
    }
  }
  let unusedWells = 0;
  let unusedPlateWellsUsd = 0;
  for (const plate of seededPerPlate.values()) {
    const empty = Math.max(0, WELLS_PER_PLATE - plate.wells);
    unusedWells += empty;
    unusedPlateWellsUsd += (plateCostUsd(plate.assay) * empty) / WELLS_PER_PLATE;
  }
  byCategory.plates += unusedPlateWellsUsd;
  for (const c of COST_CATEGORIES) byCategory[c] = round(byCategory[c]);
  return {
    totalUsd: round(wellsUsd + unusedPlateWellsUsd),
    byCategory,
    wellsUsd: round(wellsUsd),
    platesOpened: seededPerPlate.size,
    unusedWells,
    unusedPlateWellsUsd: round(unusedPlateWellsUsd),
  };
}

/** Quantities to 1e-9 of their unit, so 0.09 mL stays 0.09 and repeated subtraction stays exact enough. */
export function round9(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

function emptyTotals(): Record<CostCategory, number> {
  return Object.fromEntries(COST_CATEGORIES.map((c) => [c, 0])) as Record<CostCategory, number>;
}

function asCostLine(l: PricedLine): CostLine {
  return { item: l.item, category: l.category, usd: l.quantity * l.unitCostUsd };
}

function seedLines(use: SeedUse, timings: InstrumentTimings): PricedLine[] {
  positive('volumeMicrolitres', use.volumeMicrolitres);
  const mediumMl = use.volumeMicrolitres / 1000;
  const plate = plateItemFor(use.assay);
  return [
    {
      item: plate,
      category: 'plates',
      quantity: 1,
      unit: UNITS.plate,
      unitCostUsd: platePriceUsd(plate),
      stocked: true,
      onceForPlate: use.location.plateId,
    },
    tip(),
    {
      item: ITEMS.dmem,
      category: 'media',
      quantity: round9(mediumMl * (1 - PROTOCOL.fbsFraction)),
      unit: UNITS.millilitre,
      unitCostUsd: PRICES.dmemUsdPerMl,
      stocked: true,
    },
    {
      item: ITEMS.fbs,
      category: 'media',
      quantity: round9(mediumMl * PROTOCOL.fbsFraction),
      unit: UNITS.millilitre,
      unitCostUsd: PRICES.fbsUsdPerMl,
      stocked: true,
    },
    instrument(INSTRUMENTS.liquidHandler, timings.liquidHandlerSecondsPerTransfer, PRICES.liquidHandlerUsdPerHour),
  ];
}

function doseLines(use: DoseUse, stockConcentrationMicromolar: number | undefined, timings: InstrumentTimings) {
  if (!Number.isFinite(use.doseMicromolar) || use.doseMicromolar < 0)
    throw new RangeError(`cannot dose ${use.doseMicromolar} µM: doseMicromolar must be 0 (vehicle) or positive`);
  if (use.compound === '' && use.doseMicromolar > 0)
    throw new RangeError(
      `cannot dose ${use.doseMicromolar} µM of nothing: a vehicle control has compound "" and dose 0`,
    );
  positive('volumeMicrolitres', use.volumeMicrolitres);
  const wellMicrolitres = use.wellVolumeMicrolitres ?? PROTOCOL.mediumMicrolitres;
  positive('wellVolumeMicrolitres', wellMicrolitres);
  const finalMicrolitres = wellMicrolitres + use.volumeMicrolitres;
  const lines: PricedLine[] = [tip()];
  if (drawsCompound(use)) {
    if (stockConcentrationMicromolar === undefined || !(stockConcentrationMicromolar > 0))
      throw new RangeError(`no stock concentration for ${use.compound}: cannot work out how much stock a dose draws`);
    // C_stock × V_stock = C_final × V_final.
    const stockMicrolitres = (use.doseMicromolar * finalMicrolitres) / stockConcentrationMicromolar;
    if (stockMicrolitres > use.volumeMicrolitres * (1 + 1e-9))
      throw new RangeError(
        `cannot dose ${use.doseMicromolar} µM of ${use.compound} into ${finalMicrolitres} µL: it needs ` +
          `${round9(stockMicrolitres)} µL of the ${stockConcentrationMicromolar} µM stock, more than the ` +
          `${use.volumeMicrolitres} µL added; stock a more concentrated lot`,
      );
    // 1 µL of a C µM stock holds C × 1e-12 mol, i.e. C × MW × 1e-9 mg.
    const pricing = use.compoundPricing;
    const usdPerStockMicrolitre = pricing
      ? stockConcentrationMicromolar * pricing.molecularWeight * 1e-9 * pricing.usdPerMg
      : 0;
    lines.push({
      item: use.compound,
      category: 'compound',
      quantity: round9(stockMicrolitres),
      unit: UNITS.microlitre,
      unitCostUsd: usdPerStockMicrolitre,
      stocked: true,
    });
  }
  // The vehicle: DMSO at its final fraction, for compound wells and controls alike.
  lines.push({
    item: ITEMS.dmso,
    category: 'DMSO',
    quantity: round9((finalMicrolitres / 1000) * PROTOCOL.dmsoFractionOfFinal),
    unit: UNITS.millilitre,
    unitCostUsd: PRICES.dmsoUsdPerMl,
    stocked: true,
  });
  lines.push(
    instrument(INSTRUMENTS.liquidHandler, timings.liquidHandlerSecondsPerTransfer, PRICES.liquidHandlerUsdPerHour),
  );
  return lines;
}

function measureLines(use: MeasureUse, timings: InstrumentTimings): PricedLine[] {
  const reagent = (item: string, usdPerWell: number): PricedLine => ({
    item,
    category: 'reagents',
    quantity: 1,
    unit: UNITS.wellDose,
    unitCostUsd: usdPerWell,
    stocked: true,
  });
  switch (use.assay) {
    case 'viability':
      return [
        tip(),
        reagent(ITEMS.viabilityReagent, PRICES.viabilityReagentUsdPerWell),
        instrument(INSTRUMENTS.plateReader, timings.readerSecondsPerWell, PRICES.plateReaderUsdPerHour),
      ];
    case 'reporter':
      return [
        tip(),
        reagent(ITEMS.reporterSubstrate, PRICES.reporterReagentUsdPerWell),
        instrument(INSTRUMENTS.plateReader, timings.readerSecondsPerWell, PRICES.plateReaderUsdPerHour),
      ];
    case 'imaging':
      return [
        tip(),
        reagent(ITEMS.imagingStain, PRICES.imagingStainUsdPerWell),
        instrument(INSTRUMENTS.imager, timings.imagerSecondsPerWell, PRICES.imagerUsdPerHour),
      ];
  }
}

function tip(): PricedLine {
  return {
    item: ITEMS.tips,
    category: 'tips',
    quantity: 1,
    unit: UNITS.tip,
    unitCostUsd: PRICES.tipUsd,
    stocked: true,
  };
}

function instrument(name: string, seconds: number, usdPerHour: number): PricedLine {
  return {
    item: name,
    category: 'instrument time',
    quantity: seconds,
    unit: UNITS.second,
    unitCostUsd: usdPerHour / 3600,
    stocked: false,
  };
}

function positive(field: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${field} must be a positive number of µL (got ${value})`);
}
