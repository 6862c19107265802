import type { Assay } from './types';
import type { CompoundPricing, InstrumentTimings } from './costs';

/**
 * What a lab publishes about itself: the names it can work with, the stock it holds and what it
 * charges. This is all orchestration ever learns about a lab; how cells respond is not in it.
 */
export interface LabCatalogue {
  labName: string;
  cellLines: string[];
  compounds: CatalogueCompound[];
  instruments: { instrument: string; capacity: number; driver: string }[];
  assays: Assay[];
  /**
   * The (line, compound) pairs the lab can run, when it can tell (the virtual lab: the pairs it
   * has a response model for). Absent: any listed line with any listed compound.
   */
  pairs?: { cellLine: string; compound: string }[];
  /** Seconds per operation the lab charges instrument time at (its lab config's); absent: the built-in lab's. */
  instrumentTimings?: InstrumentTimings;
}

export interface CatalogueCompound extends CompoundPricing {
  compound: string;
  /** Concentration of the stock on the shelf, µM. */
  stockMicromolar: number;
  /** Stock left, µL. */
  microlitres: number;
  lot: string;
}

/** The catalogue's prices by compound, as the campaign keeps them for budgeting. */
export function pricingByCompound(catalogue: LabCatalogue): Record<string, CompoundPricing> {
  return Object.fromEntries(
    catalogue.compounds.map((c) => [c.compound, { molecularWeight: c.molecularWeight, usdPerMg: c.usdPerMg }]),
  );
}
