import {
  DEFAULT_INSTRUMENT_TIMINGS,
  type InstrumentTimings,
  type PricedLine,
  stepLines,
  type StepUse,
} from '../domain/costs';

/**
 * What each physical step of an experiment really uses, priced: the stock view of the one cost
 * model in ../domain/costs.ts (which owns the lines, the protocol quantities and the prices), plus
 * what only stock needs (item kinds, definitions, bounds). Pure and free of Node imports, so
 * workflow code may import the constants from here (inventory-store.ts re-exports them but pulls
 * in SQLite).
 */

export {
  COST_CATEGORIES,
  type CostCategory,
  drawsCompound,
  type DoseUse,
  INSTRUMENTS,
  ITEMS,
  type MeasureUse,
  plateItemFor,
  platePriceUsd,
  round9,
  type SeedUse,
  STEPS,
  type Step,
  type StepUse,
  UNITS,
} from '../domain/costs';

/**
 * Fault type for a step that cannot run because the lab lacks something it consumes. Like an
 * offline instrument it is not the experiment's fault: the experiment waits on a durable timer and
 * its campaign shows what is missing until `cellos restock` refills it.
 */
export { OUT_OF_STOCK } from '../domain/failures';

export const ITEM_KINDS = ['compound', 'plate', 'tips', 'medium', 'reagent'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

/** The most one restock may add, and the most any item may hold, in the item's unit. */
export const MAX_RESTOCK_AMOUNT = 10_000_000;
export const MAX_STOCK_LEVEL = 100_000_000;

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

/** One priced line of consumption. `stocked: false` lines (instrument time) draw on no stock. */
export type ConsumptionLine = PricedLine;

/**
 * The lines one step consumes, at the lab's instrument timings. `stockConcentrationMicromolar` is
 * that of the dosed compound's stock (required when a compound is dosed). Throws a RangeError for a
 * request no lab could carry out: a negative dose, a dose of nothing, or a dose that needs more
 * stock than the added volume.
 */
export function stepConsumption(
  use: StepUse,
  stockConcentrationMicromolar?: number,
  timings: InstrumentTimings = DEFAULT_INSTRUMENT_TIMINGS,
): ConsumptionLine[] {
  return stepLines(use, stockConcentrationMicromolar, timings);
}
