import type { CompoundPricing } from '../domain/costs';
import { PRICES, PROTOCOL, TIMINGS } from '../domain/prices';
import type { Assay, WellLocation } from '../domain/types';

/**
 * What each physical step of an experiment really uses, priced. Pure and free of Node imports, so
 * workflow code may import the constants from here (inventory-store.ts re-exports them but pulls
 * in SQLite). Quantities follow the protocol of ../domain/prices.ts and are priced with its
 * PRICES and TIMINGS, line for line as ../domain/costs.ts prices the same step, so the ledger and
 * the campaign's budget arithmetic agree to the cent (a test holds them together).
 */

/**
 * Fault type for a step that cannot run because the lab lacks something it consumes. Like an
 * offline instrument it is not the experiment's fault: the experiment waits on a durable timer and
 * its campaign shows what is missing until `cellos restock` refills it.
 */
export { OUT_OF_STOCK } from '../domain/failures';

export const ITEM_KINDS = ['compound', 'plate', 'tips', 'medium', 'reagent'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

export const COST_CATEGORIES = ['plates', 'tips', 'media', 'compound', 'DMSO', 'reagents', 'instrument time'] as const;
export type CostCategory = (typeof COST_CATEGORIES)[number];

export const STEPS = ['seed', 'dose', 'measure'] as const;
export type Step = (typeof STEPS)[number];

/** The most one restock may add, and the most any item may hold, in the item's unit. */
export const MAX_RESTOCK_AMOUNT = 10_000_000;
export const MAX_STOCK_LEVEL = 100_000_000;

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

/** A stocked item as defined when it first enters the lab (see default-stock.ts). */
export interface ItemDefinition {
  item: string;
  kind: ItemKind;
  unit: string;
  level: number;
  lot?: string;
  /** Compounds only: concentration of the stock solution that doses are drawn from. */
  stockConcentrationMicromolar?: number;
  /** At or below this level the inventory report flags the item as low. */
  reorderLevel?: number;
  description?: string;
}

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
  /** Prices the compound drawn; absent means the compound is free, exactly as in costs.ts. */
  compoundPricing?: CompoundPricing;
}

export interface MeasureUse {
  step: 'measure';
  location: WellLocation;
  assay: Assay;
}

/** One priced line of consumption. `stocked: false` lines (instrument time) draw on no stock. */
export interface ConsumptionLine {
  item: string;
  category: CostCategory;
  quantity: number;
  unit: string;
  unitCostUsd: number;
  stocked: boolean;
  /** Set on a plate line: the plate is consumed once per plate id, by the first seed on it. */
  onceForPlate?: string;
}

/**
 * The lines one step consumes. `stockConcentrationMicromolar` is that of the dosed compound's
 * stock (required when a compound is dosed). Throws a RangeError for a request no lab could carry
 * out: a negative dose, a dose of nothing, or a dose that needs more stock than the added volume.
 */
export function stepConsumption(use: StepUse, stockConcentrationMicromolar?: number): ConsumptionLine[] {
  switch (use.step) {
    case 'seed':
      return seedConsumption(use);
    case 'dose':
      return doseConsumption(use, stockConcentrationMicromolar);
    case 'measure':
      return measureConsumption(use);
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

function seedConsumption(use: SeedUse): ConsumptionLine[] {
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
    instrument(INSTRUMENTS.liquidHandler, TIMINGS.liquidHandlerSecondsPerTransfer, PRICES.liquidHandlerUsdPerHour),
  ];
}

function doseConsumption(use: DoseUse, stockConcentrationMicromolar: number | undefined): ConsumptionLine[] {
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
  const lines: ConsumptionLine[] = [tip()];
  if (drawsCompound(use)) {
    if (stockConcentrationMicromolar === undefined || !(stockConcentrationMicromolar > 0))
      throw new RangeError(`no stock concentration for ${use.compound}: cannot work out how much stock a dose draws`);
    // C_stock × V_stock = C_final × V_final.
    const stockMicrolitres = (use.doseMicromolar * finalMicrolitres) / stockConcentrationMicromolar;
    if (stockMicrolitres > use.volumeMicrolitres)
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
    instrument(INSTRUMENTS.liquidHandler, TIMINGS.liquidHandlerSecondsPerTransfer, PRICES.liquidHandlerUsdPerHour),
  );
  return lines;
}

function measureConsumption(use: MeasureUse): ConsumptionLine[] {
  const reagent = (item: string, usdPerWell: number): ConsumptionLine => ({
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
        instrument(INSTRUMENTS.plateReader, TIMINGS.readerSecondsPerWell, PRICES.plateReaderUsdPerHour),
      ];
    case 'reporter':
      return [
        tip(),
        reagent(ITEMS.reporterSubstrate, PRICES.reporterReagentUsdPerWell),
        instrument(INSTRUMENTS.plateReader, TIMINGS.readerSecondsPerWell, PRICES.plateReaderUsdPerHour),
      ];
    case 'imaging': {
      const seconds =
        TIMINGS.imagingChannels * TIMINGS.imagingSitesPerWell * TIMINGS.imagingSecondsPerFieldChannel +
        TIMINGS.imagingSecondsPerWell;
      return [
        tip(),
        reagent(ITEMS.imagingStain, PRICES.imagingStainUsdPerWell),
        instrument(INSTRUMENTS.imager, seconds, PRICES.imagerUsdPerHour),
      ];
    }
  }
}

function tip(): ConsumptionLine {
  return {
    item: ITEMS.tips,
    category: 'tips',
    quantity: 1,
    unit: UNITS.tip,
    unitCostUsd: PRICES.tipUsd,
    stocked: true,
  };
}

function instrument(name: string, seconds: number, usdPerHour: number): ConsumptionLine {
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

/** Quantities to 1e-9 of their unit, so 0.09 mL stays 0.09 and repeated subtraction stays exact enough. */
export function round9(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
