import type { Assay } from './types';
import type { CompoundPricing, InstrumentTimings } from './costs';
import { PROTOCOL } from './prices';

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
  /**
   * The highest dose this lab can make from the stock, µM, and why (its liquid handler's rule).
   * Absent in catalogues from before it: the volume rule (`maxDoseFromStock` with 'volume').
   */
  maxDoseMicromolar?: number;
  maxDoseRule?: string;
}

/**
 * How a liquid handler limits a dose. `volume`: the stock must fit the compound addition (10 µL
 * into 110 µL makes at most 1/11 of the stock). `dmso-fraction`: every well ends at the protocol's
 * DMSO fraction (0.5 %, DOMAIN.md), so the stock itself may be at most that share of the well
 * (the Opentrons Flex driver's dilution plan): 1 mM makes at most 5 µM.
 */
export type DoseRule = 'volume' | 'dmso-fraction';

export function maxDoseFromStock(stockMicromolar: number, rule: DoseRule): { micromolar: number; why: string } {
  const final = PROTOCOL.mediumMicrolitres + PROTOCOL.compoundAdditionMicrolitres;
  return rule === 'dmso-fraction'
    ? {
        micromolar: stockMicromolar * PROTOCOL.dmsoFractionOfFinal,
        why: `its liquid handler keeps every well at ${PROTOCOL.dmsoFractionOfFinal * 100}% DMSO`,
      }
    : {
        micromolar: (stockMicromolar * PROTOCOL.compoundAdditionMicrolitres) / final,
        why: `${PROTOCOL.compoundAdditionMicrolitres} µL of stock at most into a ${final} µL well`,
      };
}

/** The catalogue's prices by compound, as the campaign keeps them for budgeting. */
export function pricingByCompound(catalogue: LabCatalogue): Record<string, CompoundPricing> {
  return Object.fromEntries(
    catalogue.compounds.map((c) => [c.compound, { molecularWeight: c.molecularWeight, usdPerMg: c.usdPerMg }]),
  );
}
