/**
 * The Flex equipment a generated protocol may load, by the load names of opentrons' standard
 * definitions (checked against opentrons 10.1.0's `opentrons_shared_data`), with the few figures
 * the planner needs. The analyzer stays the authority on what a pipette can do: these figures
 * only choose a pipette, size dilutions and count tips.
 */

export const FLEX_PIPETTE_MODELS = [
  'flex_1channel_50',
  'flex_8channel_50',
  'flex_1channel_1000',
  'flex_8channel_1000',
] as const;
export type FlexPipetteModel = (typeof FLEX_PIPETTE_MODELS)[number];

export interface PipetteSpec {
  channels: 1 | 8;
  /** Default mode (µL). */
  minMicrolitres: number;
  maxMicrolitres: number;
  /** The 50 µL pipettes' low-volume mode (`configure_for_volume` below 5 µL): 0.5-30 µL. */
  lowVolume?: { minMicrolitres: number; maxMicrolitres: number };
  defaultTipRack: FlexTipRack;
  tipRacks: readonly FlexTipRack[];
}

export const FLEX_TIP_RACKS = {
  opentrons_flex_96_tiprack_20ul: 20,
  opentrons_flex_96_tiprack_50ul: 50,
  opentrons_flex_96_tiprack_200ul: 200,
  opentrons_flex_96_tiprack_1000ul: 1000,
  opentrons_flex_96_filtertiprack_20ul: 20,
  opentrons_flex_96_filtertiprack_50ul: 50,
  opentrons_flex_96_filtertiprack_200ul: 200,
  opentrons_flex_96_filtertiprack_1000ul: 1000,
} as const;
export type FlexTipRack = keyof typeof FLEX_TIP_RACKS;

const SMALL_TIPS: readonly FlexTipRack[] = [
  'opentrons_flex_96_tiprack_20ul',
  'opentrons_flex_96_tiprack_50ul',
  'opentrons_flex_96_filtertiprack_20ul',
  'opentrons_flex_96_filtertiprack_50ul',
];
const LARGE_TIPS: readonly FlexTipRack[] = [
  'opentrons_flex_96_tiprack_50ul',
  'opentrons_flex_96_tiprack_200ul',
  'opentrons_flex_96_tiprack_1000ul',
  'opentrons_flex_96_filtertiprack_50ul',
  'opentrons_flex_96_filtertiprack_200ul',
  'opentrons_flex_96_filtertiprack_1000ul',
];

/** From the pipettes' liquid definitions (default and lowVolumeDefault) in opentrons_shared_data. */
export const FLEX_PIPETTES: Record<FlexPipetteModel, PipetteSpec> = {
  flex_1channel_50: {
    channels: 1,
    minMicrolitres: 5,
    maxMicrolitres: 50,
    lowVolume: { minMicrolitres: 0.5, maxMicrolitres: 30 },
    defaultTipRack: 'opentrons_flex_96_tiprack_50ul',
    tipRacks: SMALL_TIPS,
  },
  flex_8channel_50: {
    channels: 8,
    minMicrolitres: 5,
    maxMicrolitres: 50,
    lowVolume: { minMicrolitres: 0.5, maxMicrolitres: 30 },
    defaultTipRack: 'opentrons_flex_96_tiprack_50ul',
    tipRacks: SMALL_TIPS,
  },
  flex_1channel_1000: {
    channels: 1,
    minMicrolitres: 5,
    maxMicrolitres: 1000,
    defaultTipRack: 'opentrons_flex_96_tiprack_1000ul',
    tipRacks: LARGE_TIPS,
  },
  flex_8channel_1000: {
    channels: 8,
    minMicrolitres: 5,
    maxMicrolitres: 1000,
    defaultTipRack: 'opentrons_flex_96_tiprack_1000ul',
    tipRacks: LARGE_TIPS,
  },
};

export type Mount = 'left' | 'right';

export interface MountedPipette {
  model: FlexPipetteModel;
  mount: Mount;
  /** Defaults to the model's standard tips (50 µL tips on a 50 µL pipette, 1000 µL on a 1000). */
  tipRack?: FlexTipRack;
}

/** Labware the generated protocols use; every default is a standard Opentrons definition. */
export interface FlexLabwareChoice {
  /** The cell plate, by plate type. Corning 3603 (black, clear bottom) shares 3590's geometry. */
  plate: { assay: string; imaging: string };
  /** Cell suspensions (seeding), medium and DMSO (dosing): a 12-column trough, one liquid per column. */
  reservoir: string;
  /** Compound stocks, one tube per compound. */
  stockRack: string;
  /** Deep-well plate for the DMSO dilution ladder, and another for the per-well working solutions. */
  dilutionPlate: string;
}

export const DEFAULT_LABWARE: FlexLabwareChoice = {
  plate: { assay: 'corning_96_wellplate_360ul_flat', imaging: 'corning_96_wellplate_360ul_flat' },
  reservoir: 'nest_12_reservoir_15ml',
  stockRack: 'opentrons_24_tuberack_nest_1.5ml_snapcap',
  dilutionPlate: 'nest_96_wellplate_2ml_deep',
};

/** Left: 1000 µL single channel (cells, medium, DMSO); right: 50 µL single channel (compound). */
export const DEFAULT_PIPETTES: readonly MountedPipette[] = [
  { model: 'flex_1channel_1000', mount: 'left' },
  { model: 'flex_1channel_50', mount: 'right' },
];

/**
 * Capacities the planner sizes liquids with (µL). Dead volumes are what a tip cannot reach;
 * a liquid is loaded with what is drawn plus its dead volume.
 */
export const CAPACITY = {
  reservoirWellMicrolitres: 15_000,
  reservoirDeadMicrolitres: 1_000,
  tubeMicrolitres: 1_500,
  tubeDeadMicrolitres: 50,
  deepWellMicrolitres: 2_000,
  deepWellDeadMicrolitres: 20,
} as const;

/**
 * Flex deck: slots A1..D3, the trash bin in A3. The plate sits front left; sources beside it;
 * tip racks fill the slots that are left, back to front.
 */
export const DECK = {
  trashSlot: 'A3',
  plateSlot: 'D1',
  reservoirSlot: 'D2',
  stockRackSlot: 'D3',
  ladderPlateSlot: 'C1',
  workingPlateSlot: 'C2',
  freeSlots: ['C3', 'B1', 'B2', 'B3', 'A1', 'A2'],
  /** Seeding loads no stock rack nor dilution plates, so it has more room for tips. */
  seedingFreeSlots: ['D3', 'C1', 'C2', 'C3', 'B1', 'B2', 'B3', 'A1', 'A2'],
} as const;

/** Upper bound of a tip rack's tips (µL) from its load name. */
export function tipMicrolitres(rack: FlexTipRack): number {
  return FLEX_TIP_RACKS[rack];
}
