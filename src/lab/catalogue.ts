import { instrumentTimings, type LabConfig } from '../config/lab-config';
import type { LabProfile } from '../config/lab-profile';
import type { CompoundPricing } from '../domain/costs';
import { type DoseRule, type LabCatalogue, maxDoseFromStock } from '../domain/lab-catalogue';
import { ASSAYS } from '../domain/types';
import type { InventoryItem } from '../inventory/inventory-store';

/**
 * The virtual lab's published catalogue: its cell lines, the compounds on its shelves with their
 * stock and prices, its instruments, and the pairs it has a response model for. Built from the
 * profile the lab worker was started with and the live inventory of its file; nothing about how
 * the cells respond leaves the lab.
 */
export function virtualLabCatalogue(input: {
  profile: LabProfile;
  items: readonly InventoryItem[];
  labConfig: LabConfig;
  drivers?: Partial<Record<string, string>>;
}): LabCatalogue {
  const { profile, items, labConfig } = input;
  const stocked = new Map(items.filter((i) => i.kind === 'compound').map((i) => [i.item, i]));
  const names = [...new Set([...Object.keys(profile.compounds), ...stocked.keys()])].sort();
  const driver = (instrument: string) => input.drivers?.[instrument] ?? 'virtual';
  // The Opentrons Flex plans every well at the protocol's DMSO fraction; the virtual lab by volume.
  const rule: DoseRule = driver('liquid-handler') === 'opentrons-flex' ? 'dmso-fraction' : 'volume';
  return {
    labName: profile.name,
    cellLines: Object.keys(profile.cellLines).sort(),
    compounds: names.map((compound) => {
      const entry = profile.compounds[compound];
      const item = stocked.get(compound);
      const stockMicromolar = item?.stockConcentrationMicromolar ?? entry?.stock.concentrationMicromolar ?? 0;
      const max = maxDoseFromStock(stockMicromolar, rule);
      return {
        compound,
        stockMicromolar,
        maxDoseMicromolar: max.micromolar,
        maxDoseRule: max.why,
        microlitres: item?.level ?? 0,
        lot: item?.lot ?? entry?.stock.lot ?? '',
        ...compoundPricing(profile, compound),
      };
    }),
    instruments: [
      { instrument: 'liquid-handler', capacity: labConfig.liquidHandler.capacity, driver: driver('liquid-handler') },
      { instrument: 'plate-reader', capacity: labConfig.plateReader.capacity, driver: driver('plate-reader') },
      { instrument: 'imager', capacity: labConfig.imager.capacity, driver: driver('imager') },
      { instrument: 'incubator', capacity: labConfig.incubator.capacityPlates, driver: 'virtual' },
    ],
    assays: [...ASSAYS],
    instrumentTimings: instrumentTimings(labConfig),
    pairs: Object.entries(profile.compounds).flatMap(([compound, c]) =>
      Object.keys(c.responses)
        .filter((line) => profile.cellLines[line])
        .map((cellLine) => ({ cellLine, compound })),
    ),
  };
}

/** Every compound's catalogue price (what the ledger and the audit price doses at). */
export function profilePricing(profile: LabProfile): Record<string, CompoundPricing> {
  return Object.fromEntries(Object.keys(profile.compounds).map((c) => [c, compoundPricing(profile, c)]));
}

/** The catalogue price of a compound (free when the lab does not list it). */
export function compoundPricing(profile: LabProfile, compound: string): CompoundPricing {
  const entry = profile.compounds[compound];
  return { molecularWeight: entry?.molecularWeight ?? 0, usdPerMg: entry?.usdPerMg ?? 0 };
}
