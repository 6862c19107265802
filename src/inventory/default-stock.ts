import { builtinLabProfile, type LabProfile } from '../config/lab-profile';
import { type ItemDefinition, ITEMS, UNITS } from './consumption';

/**
 * What a fresh virtual lab has on its shelves: a few weeks of a small screening lab's
 * consumables, and one stock vial of each compound of the lab's profile (its `stock`). Enough for a simulated lab day of
 * 3 campaigns × 96 experiments (~900 tips, 3-6 plates) without a restock; small enough that a
 * long campaign meets a shortage, as real labs do. Prices are not here: they come from
 * ../domain/prices.ts and the lab's catalogue (the profile) at the moment something is consumed.
 */

const CONSUMABLES: ItemDefinition[] = [
  {
    item: ITEMS.plate96,
    kind: 'plate',
    unit: UNITS.plate,
    level: 50,
    reorderLevel: 10,
    lot: 'PL96-0001',
    description: '96-well tissue-culture plates, clear',
  },
  {
    item: ITEMS.plate96Imaging,
    kind: 'plate',
    unit: UNITS.plate,
    level: 20,
    reorderLevel: 4,
    lot: 'PL96I-0001',
    description: '96-well imaging plates, black, optical bottom',
  },
  {
    item: ITEMS.tips,
    kind: 'tips',
    unit: UNITS.tip,
    level: 4_800,
    reorderLevel: 960,
    lot: 'TIP-0001',
    description: 'filtered 200 µL tips (5 cases of 10 racks × 96)',
  },
  {
    item: ITEMS.dmem,
    kind: 'medium',
    unit: UNITS.millilitre,
    level: 1_000,
    reorderLevel: 200,
    lot: 'DMEM-0001',
    description: 'DMEM, high glucose (2 × 500 mL bottles)',
  },
  {
    item: ITEMS.fbs,
    kind: 'medium',
    unit: UNITS.millilitre,
    level: 100,
    reorderLevel: 20,
    lot: 'FBS-0001',
    description: 'fetal bovine serum, heat-inactivated (2 × 50 mL aliquots)',
  },
  {
    item: ITEMS.dmso,
    kind: 'reagent',
    unit: UNITS.millilitre,
    level: 100,
    reorderLevel: 10,
    lot: 'DMSO-0001',
    description: 'DMSO, cell-culture grade (vehicle)',
  },
  {
    item: ITEMS.viabilityReagent,
    kind: 'reagent',
    unit: UNITS.wellDose,
    level: 1_000,
    reorderLevel: 192,
    lot: 'CTG-0001',
    description: 'luminescent ATP viability reagent (100 mL kit, 100 µL per well)',
  },
  {
    item: ITEMS.reporterSubstrate,
    kind: 'reagent',
    unit: UNITS.wellDose,
    level: 1_000,
    reorderLevel: 192,
    lot: 'REP-0001',
    description: 'reporter substrate',
  },
  {
    item: ITEMS.imagingStain,
    kind: 'reagent',
    unit: UNITS.wellDose,
    level: 500,
    reorderLevel: 96,
    lot: 'STAIN-0001',
    description: 'nuclear + cytoplasmic stains for imaging',
  },
];

/** The starting inventory of a lab file: every consumable a step draws on, and each profile compound's stock. */
export function stockForProfile(profile: LabProfile): ItemDefinition[] {
  return [
    ...CONSUMABLES,
    ...Object.entries(profile.compounds).map(([compound, { stock }]): ItemDefinition => ({
      item: compound,
      kind: 'compound',
      unit: UNITS.microlitre,
      level: stock.microlitres,
      lot: stock.lot,
      stockConcentrationMicromolar: stock.concentrationMicromolar,
      reorderLevel: stock.microlitres * 0.2,
      description: `${stock.concentrationMicromolar / 1000} mM in ${stock.solvent}`,
    })),
  ];
}

/** The starting inventory of a lab on the built-in profile. */
export const DEFAULT_STOCK: readonly ItemDefinition[] = stockForProfile(builtinLabProfile());
