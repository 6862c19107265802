import { PLATE_ROWS, wellName } from '../../lab/plate';
import type { WellName } from '../plate-driver';
import { PlateStepRefusedError } from './errors';
import {
  FLEX_PIPETTES,
  tipMicrolitres,
  type FlexLabwareChoice,
  type FlexPipetteModel,
  type FlexTipRack,
  type Mount,
  type MountedPipette,
} from './equipment';

/**
 * A plate step as the robot will do it: labware on the deck, liquids the operator loads, and the
 * exact list of pipetting steps. Planning is pure (no I/O) and deterministic, so a retried or
 * resumed step rebuilds the same plan and can map the robot's commands back to wells.
 */

export type Step =
  | { op: 'pickUpTip'; pipette: string }
  | { op: 'dropTip'; pipette: string }
  | { op: 'configureForVolume'; pipette: string; microlitres: number }
  | { op: 'aspirate'; pipette: string; labware: string; well: WellName; microlitres: number }
  | { op: 'dispense'; pipette: string; labware: string; well: WellName; microlitres: number; at: 'top' | 'bottom' }
  | { op: 'blowOut'; pipette: string; labware: string; well: WellName }
  | { op: 'mix'; pipette: string; labware: string; well: WellName; repetitions: number; microlitres: number }
  | { op: 'comment'; text: string };

export interface PlannedLabware {
  /** Name the protocol's steps use. */
  name: string;
  loadName: string;
  slot: string;
  label: string;
}

export interface PlannedPipette {
  name: string;
  model: FlexPipetteModel;
  mount: Mount;
  tipRack: FlexTipRack;
  tipRackSlots: string[];
  /** Tip pick-ups (an 8-channel pick-up takes a column of 8 tips). */
  pickUps: number;
  tipsUsed: number;
}

export interface PlannedLiquid {
  name: string;
  description: string;
  color: string;
  wells: { labware: string; well: WellName; microlitres: number }[];
}

/** One dispense into the cell plate: the wells it fills (8 for an 8-channel column). */
export interface FinalTransfer {
  wells: WellName[];
  destinationWell: WellName;
  pipette: string;
  microlitres: number;
}

export interface ProtocolPlan {
  kind: 'seed' | 'dose';
  operationKey: string;
  plateId: string;
  title: string;
  apiLevel: string;
  labware: PlannedLabware[];
  /** The labware name of the cell plate among `labware`. */
  plateLabware: string;
  pipettes: PlannedPipette[];
  liquids: PlannedLiquid[];
  steps: Step[];
  /** What each well of the cell plate receives, for the operator and the protocol's header. */
  wellMap: Record<WellName, string>;
  finalTransfers: FinalTransfer[];
  /** Lines of explanation (dilution maths, deck set-up) written into the protocol's header. */
  notes: string[];
}

export interface PlannerConfig {
  apiLevel: string;
  pipettes: readonly MountedPipette[];
  labware: FlexLabwareChoice;
  /** Final DMSO fraction (v/v) in every dosed well, vehicles included. */
  dmsoFinalFraction: number;
  /** Smallest volume the planner itself asks a pipette to move (µL); requested volumes are the caller's. */
  minimumPipettingMicrolitres: number;
}

interface PipetteMode {
  pipette: string;
  lowVolume: boolean;
  minMicrolitres: number;
  maxMicrolitres: number;
}

const LIQUID_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Volumes in a protocol are written to 0.01 µL; the robot cannot do better. */
export function roundMicrolitres(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Builds a plan: chooses pipettes for volumes, wraps tip use, allocates liquids to source wells
 * and counts the tips so the right number of racks is loaded.
 */
export class PlanBuilder {
  readonly steps: Step[] = [];
  private readonly mounted: { name: string; model: FlexPipetteModel; mount: Mount; tipRack: FlexTipRack }[];
  private readonly pickUps = new Map<string, number>();
  private readonly liquids = new Map<string, PlannedLiquid>();
  private readonly sources = new Map<string, { wells: WellName[]; capacity: number; dead: number }>();
  private readonly used = new Map<string, { well: WellName; drawn: number }[]>();
  private readonly taken = new Set<string>();

  constructor(
    readonly operationKey: string,
    pipettes: readonly MountedPipette[],
  ) {
    const mounts = new Set<Mount>();
    this.mounted = pipettes.map((p) => {
      if (mounts.has(p.mount)) this.refuse(`two pipettes on the ${p.mount} mount`);
      mounts.add(p.mount);
      const spec = FLEX_PIPETTES[p.model];
      if (!spec) this.refuse(`unknown pipette "${p.model}"`);
      const tipRack = p.tipRack ?? spec.defaultTipRack;
      if (!spec.tipRacks.includes(tipRack)) this.refuse(`${p.model} cannot use ${tipRack}`);
      return { name: `${p.model.replace('flex_', 'p')}_${p.mount}`, model: p.model, mount: p.mount, tipRack };
    });
    if (this.mounted.length === 0) this.refuse('no pipette is mounted');
  }

  refuse(reason: string): never {
    throw new PlateStepRefusedError(this.operationKey, reason);
  }

  hasPipettes(channels: 1 | 8): boolean {
    return this.mounted.some((p) => FLEX_PIPETTES[p.model].channels === channels);
  }

  private modes(channels: 1 | 8): PipetteMode[] {
    const modes: PipetteMode[] = [];
    for (const p of this.mounted) {
      const spec = FLEX_PIPETTES[p.model];
      if (spec.channels !== channels) continue;
      const tip = tipMicrolitres(p.tipRack);
      modes.push({
        pipette: p.name,
        lowVolume: false,
        minMicrolitres: spec.minMicrolitres,
        maxMicrolitres: Math.min(spec.maxMicrolitres, tip),
      });
      if (spec.lowVolume)
        modes.push({
          pipette: p.name,
          lowVolume: true,
          minMicrolitres: spec.lowVolume.minMicrolitres,
          maxMicrolitres: Math.min(spec.lowVolume.maxMicrolitres, tip),
        });
    }
    return modes;
  }

  /**
   * The pipette (and mode) for a volume: the smallest that holds it. A requested volume that no
   * pipette holds still gets the largest, so the analyzer, not this planner, says why it cannot
   * be done; undefined when no pipette of that many channels is mounted.
   */
  choose(microlitres: number, channels: 1 | 8): PipetteMode | undefined {
    const modes = this.modes(channels);
    if (modes.length === 0) return undefined;
    const fitting = modes
      .filter((m) => microlitres >= m.minMicrolitres && microlitres <= m.maxMicrolitres)
      // Default mode before low-volume mode where both fit: the low-volume mode is for < 5 µL.
      .sort((a, b) => a.maxMicrolitres - b.maxMicrolitres || Number(a.lowVolume) - Number(b.lowVolume));
    const preferred = fitting.find((m) => !m.lowVolume || microlitres < 5) ?? fitting[0];
    if (preferred) return preferred;
    if (modes.every((m) => microlitres < m.minMicrolitres))
      this.refuse(`${microlitres} µL is below every mounted ${channels}-channel pipette's minimum`);
    return [...modes].sort((a, b) => b.maxMicrolitres - a.maxMicrolitres)[0];
  }

  /** For the planner's own volumes: one pipette and as many equal parts as it needs. */
  chooseSplit(microlitres: number, channels: 1 | 8): { mode: PipetteMode; parts: number[] } {
    const direct = this.choose(microlitres, channels);
    if (!direct) this.refuse(`this step needs a ${channels}-channel pipette`);
    if (microlitres <= direct.maxMicrolitres) return { mode: direct, parts: [roundMicrolitres(microlitres)] };
    const largest = this.modes(channels)
      .filter((m) => !m.lowVolume)
      .sort((a, b) => b.maxMicrolitres - a.maxMicrolitres)[0]!;
    const n = Math.ceil(microlitres / largest.maxMicrolitres);
    return { mode: largest, parts: Array.from({ length: n }, () => roundMicrolitres(microlitres / n)) };
  }

  /** The largest volume a mode may mix with, capped at `wanted`. */
  mixVolume(mode: PipetteMode, wanted: number): number {
    return roundMicrolitres(Math.max(mode.minMicrolitres, Math.min(mode.maxMicrolitres, wanted)));
  }

  /** One tip for `body`: (mode set), pick up, body, drop. */
  withTip(mode: PipetteMode, body: () => void): void {
    const model = this.mounted.find((p) => p.name === mode.pipette)!.model;
    if (FLEX_PIPETTES[model].lowVolume)
      // configure_for_volume picks the mode from the volume: below 5 µL low-volume, else default.
      this.steps.push({ op: 'configureForVolume', pipette: mode.pipette, microlitres: mode.lowVolume ? 1 : 5 });
    this.steps.push({ op: 'pickUpTip', pipette: mode.pipette });
    this.pickUps.set(mode.pipette, (this.pickUps.get(mode.pipette) ?? 0) + 1);
    body();
    this.steps.push({ op: 'dropTip', pipette: mode.pipette });
  }

  aspirate(pipette: string, labware: string, well: WellName, microlitres: number): void {
    this.steps.push({ op: 'aspirate', pipette, labware, well, microlitres: roundMicrolitres(microlitres) });
  }

  dispense(pipette: string, labware: string, well: WellName, microlitres: number, at: 'top' | 'bottom'): void {
    this.steps.push({ op: 'dispense', pipette, labware, well, microlitres: roundMicrolitres(microlitres), at });
  }

  blowOut(pipette: string, labware: string, well: WellName): void {
    this.steps.push({ op: 'blowOut', pipette, labware, well });
  }

  mix(pipette: string, labware: string, well: WellName, repetitions: number, microlitres: number): void {
    this.steps.push({ op: 'mix', pipette, labware, well, repetitions, microlitres: roundMicrolitres(microlitres) });
  }

  comment(text: string): void {
    this.steps.push({ op: 'comment', text });
  }

  /** Declares a labware whose wells hold operator-loaded liquids, filled in order. */
  source(labware: string, wells: WellName[], capacity: number, dead: number): void {
    this.sources.set(labware, { wells, capacity, dead });
  }

  /**
   * The source well to draw `microlitres` of a liquid from: the liquid's current well while it
   * has room, else the next free well of that labware (a liquid may span several columns).
   */
  draw(liquid: { name: string; description: string }, labware: string, microlitres: number): WellName {
    const source = this.sources.get(labware);
    if (!source) throw new Error(`no source labware ${labware}`);
    const key = `${labware}\u0000${liquid.name}`;
    const wells = this.used.get(key) ?? [];
    this.used.set(key, wells);
    let current = wells[wells.length - 1];
    if (!current || current.drawn + microlitres > source.capacity - source.dead) {
      if (microlitres > source.capacity - source.dead)
        this.refuse(`${microlitres} µL of ${liquid.name} in one draw is more than a ${labware} well holds`);
      const free = source.wells.find((w) => !this.taken.has(`${labware}\u0000${w}`));
      if (!free) this.refuse(`${labware} has no free well left for ${liquid.name}`);
      this.taken.add(`${labware}\u0000${free}`);
      current = { well: free, drawn: 0 };
      wells.push(current);
    }
    current.drawn += microlitres;
    if (!this.liquids.has(liquid.name))
      this.liquids.set(liquid.name, {
        name: liquid.name,
        description: liquid.description,
        color: LIQUID_COLOURS[this.liquids.size % LIQUID_COLOURS.length]!,
        wells: [],
      });
    return current.well;
  }

  /** Reserves a specific source well for a liquid (a tube the operator fills), returning it. */
  reserve(liquid: { name: string; description: string }, labware: string, well: WellName): void {
    this.taken.add(`${labware}\u0000${well}`);
    this.used.set(`${labware}\u0000${liquid.name}`, [{ well, drawn: 0 }]);
    if (!this.liquids.has(liquid.name))
      this.liquids.set(liquid.name, {
        name: liquid.name,
        description: liquid.description,
        color: LIQUID_COLOURS[this.liquids.size % LIQUID_COLOURS.length]!,
        wells: [],
      });
  }

  /** Adds to a reserved well's drawn volume (a tube drawn by several steps). */
  drawReserved(liquidName: string, labware: string, microlitres: number): WellName {
    const entry = this.used.get(`${labware}\u0000${liquidName}`)?.[0];
    if (!entry) throw new Error(`${liquidName} has no reserved well in ${labware}`);
    entry.drawn += microlitres;
    const source = this.sources.get(labware)!;
    if (entry.drawn > source.capacity - source.dead)
      this.refuse(`${liquidName} needs ${roundMicrolitres(entry.drawn)} µL, more than a ${labware} well holds`);
    return entry.well;
  }

  /** Liquids with what the operator must load: everything drawn plus the dead volume. */
  plannedLiquids(): PlannedLiquid[] {
    for (const [key, wells] of this.used) {
      const [labware, name] = key.split('\u0000') as [string, string];
      const dead = this.sources.get(labware)!.dead;
      const liquid = this.liquids.get(name)!;
      for (const w of wells)
        if (w.drawn > 0)
          liquid.wells.push({ labware, well: w.well, microlitres: Math.ceil(roundMicrolitres(w.drawn) + dead) });
    }
    return [...this.liquids.values()].filter((l) => l.wells.length > 0);
  }

  /** Tip racks for what was picked up, placed on the free slots; refuses when they do not fit. */
  plannedPipettes(freeSlots: readonly string[]): PlannedPipette[] {
    const slots = [...freeSlots];
    // Only pipettes the steps use are loaded; a mounted pipette the protocol ignores is fine.
    return this.mounted
      .filter((p) => (this.pickUps.get(p.name) ?? 0) > 0)
      .map((p) => {
        const pickUps = this.pickUps.get(p.name) ?? 0;
        const channels = FLEX_PIPETTES[p.model].channels;
        const perRack = 96 / channels;
        const racks = Math.ceil(pickUps / perRack);
        if (racks > slots.length)
          this.refuse(
            `${p.name} needs ${racks} racks of ${p.tipRack} (${pickUps * channels} tips) but only ` +
              `${slots.length} deck slots are free; split the plate step`,
          );
        return {
          name: p.name,
          model: p.model,
          mount: p.mount,
          tipRack: p.tipRack,
          tipRackSlots: slots.splice(0, racks),
          pickUps,
          tipsUsed: pickUps * channels,
        };
      });
  }
}

/** The 8 wells of a 0-based plate column, A to H (what an 8-channel pipette covers at its row A well). */
export function columnWells(columnIndex: number): WellName[] {
  return Array.from({ length: PLATE_ROWS }, (_, rowIndex) => wellName({ rowIndex, columnIndex }));
}

/** The 12 troughs of a 12-column reservoir. */
export function reservoirWells(): WellName[] {
  return Array.from({ length: 12 }, (_, c) => `A${c + 1}`);
}

export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k) ?? [];
    list.push(item);
    groups.set(k, list);
  }
  return groups;
}

/** 0-based columns whose 8 wells are all among `wells` and take the same volume. */
export function wholeColumns(wells: readonly { well: WellName; volumeMicrolitres: number }[]): number[] {
  const byWell = new Map(wells.map((w) => [w.well, w]));
  const columns: number[] = [];
  for (let c = 0; c < 12; c += 1) {
    const members = columnWells(c).map((name) => byWell.get(name));
    if (members.every((m) => m !== undefined && m.volumeMicrolitres === members[0]!.volumeMicrolitres)) columns.push(c);
  }
  return columns;
}
