import { parseWell, wellName } from '../../lab/plate';
import type { SeedPlateRequest, SeedWell, WellName } from '../plate-driver';
import { CAPACITY, DECK } from './equipment';
import {
  PlanBuilder,
  columnWells,
  groupBy,
  reservoirWells,
  wholeColumns,
  roundMicrolitres,
  type FinalTransfer,
  type PlannerConfig,
  type ProtocolPlan,
} from './plan';

/**
 * Seeding: each cell suspension (a cell line at one density) fills a reservoir column; one tip per
 * suspension dispenses into the empty wells from just below the rim (it never touches liquid, so
 * reusing it is clean) and the suspension is re-mixed every few dispenses so cells stay suspended.
 * Whole columns of one suspension go by 8-channel pipette when one is mounted.
 */

const REMIX_EVERY_DISPENSES = 12;
const REMIX_EVERY_COLUMNS = 4;

interface Suspension {
  name: string;
  description: string;
  wells: SeedWell[];
}

export function planSeeding(request: SeedPlateRequest, config: PlannerConfig): ProtocolPlan {
  // Typed explicitly so `b.refuse(...)` (returns never) narrows like a throw.
  const b: PlanBuilder = new PlanBuilder(request.operationKey, config.pipettes);
  validate(request, b);
  const plateLoadName = config.labware.plate[request.plateType];
  b.source('reservoir', reservoirWells(), CAPACITY.reservoirWellMicrolitres, CAPACITY.reservoirDeadMicrolitres);

  const suspensions = groupBySuspension(request.wells);
  const finalTransfers: FinalTransfer[] = [];
  const wellMap: Record<WellName, string> = {};
  for (const s of suspensions)
    for (const w of s.wells) wellMap[w.well] = `${w.cellLine}: ${w.cellsPerWell} cells in ${w.volumeMicrolitres} µL`;

  for (const suspension of suspensions) {
    b.comment(`Seed ${suspension.description}`);
    const byWell = new Map(suspension.wells.map((w) => [w.well, w]));
    const columns = wholeColumns(suspension.wells).filter((c) => {
      const volume = byWell.get(wellName({ rowIndex: 0, columnIndex: c }))!.volumeMicrolitres;
      const mode = b.choose(volume, 8);
      return mode !== undefined && volume >= mode.minMicrolitres && volume <= mode.maxMicrolitres;
    });
    const inColumns = new Set(columns.flatMap((c) => columnWells(c)));

    // Whole columns by 8-channel, grouped by pipette mode (one tip column per mode).
    const columnGroups = groupBy(columns, (c) => {
      const mode = b.choose(byWell.get(wellName({ rowIndex: 0, columnIndex: c }))!.volumeMicrolitres, 8)!;
      return `${mode.pipette}/${mode.lowVolume}`;
    });
    for (const group of columnGroups.values()) {
      const first = byWell.get(wellName({ rowIndex: 0, columnIndex: group[0]! }))!;
      const mode = b.choose(first.volumeMicrolitres, 8)!;
      b.withTip(mode, () => {
        group.forEach((c, i) => {
          const top = wellName({ rowIndex: 0, columnIndex: c });
          const volume = byWell.get(top)!.volumeMicrolitres;
          const source = b.draw(suspension, 'reservoir', volume * 8);
          if (i % REMIX_EVERY_COLUMNS === 0) b.mix(mode.pipette, 'reservoir', source, 3, b.mixVolume(mode, 200));
          b.aspirate(mode.pipette, 'reservoir', source, volume);
          b.dispense(mode.pipette, 'plate', top, volume, 'top');
          b.blowOut(mode.pipette, 'plate', top);
          finalTransfers.push({
            wells: columnWells(c),
            destinationWell: top,
            pipette: mode.pipette,
            microlitres: volume,
          });
        });
      });
    }

    // The other wells one by one, grouped by the pipette mode their volume needs.
    const singles = suspension.wells.filter((w) => !inColumns.has(w.well));
    if (singles.length > 0 && !b.hasPipettes(1))
      b.refuse(
        `an 8-channel pipette alone fills whole columns only; ${singles.map((w) => w.well).join(', ')} ` +
          `need a 1-channel pipette`,
      );
    const singleGroups = groupBy(singles, (w) => {
      const mode = b.choose(w.volumeMicrolitres, 1)!;
      return `${mode.pipette}/${mode.lowVolume}`;
    });
    for (const group of singleGroups.values()) {
      const mode = b.choose(group[0]!.volumeMicrolitres, 1)!;
      b.withTip(mode, () => {
        group.forEach((w, i) => {
          const source = b.draw(suspension, 'reservoir', w.volumeMicrolitres);
          if (i % REMIX_EVERY_DISPENSES === 0) b.mix(mode.pipette, 'reservoir', source, 3, b.mixVolume(mode, 200));
          b.aspirate(mode.pipette, 'reservoir', source, w.volumeMicrolitres);
          b.dispense(mode.pipette, 'plate', w.well, w.volumeMicrolitres, 'top');
          b.blowOut(mode.pipette, 'plate', w.well);
          finalTransfers.push({
            wells: [w.well],
            destinationWell: w.well,
            pipette: mode.pipette,
            microlitres: w.volumeMicrolitres,
          });
        });
      });
    }
  }

  const liquids = b.plannedLiquids();
  const pipettes = b.plannedPipettes(DECK.seedingFreeSlots);
  return {
    kind: 'seed',
    operationKey: request.operationKey,
    plateId: request.plateId,
    title: `cell_OS seed ${request.plateLabel} (${request.wells.length} wells)`,
    apiLevel: config.apiLevel,
    labware: [
      { name: 'plate', loadName: plateLoadName, slot: DECK.plateSlot, label: `cell plate ${request.plateLabel}` },
      { name: 'reservoir', loadName: config.labware.reservoir, slot: DECK.reservoirSlot, label: 'cell suspensions' },
    ],
    plateLabware: 'plate',
    pipettes,
    liquids,
    steps: b.steps,
    wellMap,
    finalTransfers,
    notes: [
      `Plate ${request.plateId} (${request.plateType}): ${request.wells.length} wells seeded from the reservoir.`,
      ...liquids.map(
        (l) =>
          `Reservoir ${l.wells.map((w) => `${w.well} ${roundMicrolitres(w.microlitres / 1000)} mL`).join(', ')}: ${l.description}`,
      ),
    ],
  };
}

function validate(request: SeedPlateRequest, b: PlanBuilder): void {
  if (request.wells.length === 0) b.refuse('no wells to seed');
  const seen = new Set<string>();
  for (const w of request.wells) {
    try {
      parseWell(w.well);
    } catch (error) {
      b.refuse((error as Error).message);
    }
    if (seen.has(w.well)) b.refuse(`well ${w.well} appears twice`);
    seen.add(w.well);
    if (!w.cellLine) b.refuse(`well ${w.well}: cellLine is empty`);
    if (!(Number.isFinite(w.volumeMicrolitres) && w.volumeMicrolitres > 0))
      b.refuse(`well ${w.well}: volumeMicrolitres ${w.volumeMicrolitres} must be a positive number`);
    if (!(Number.isInteger(w.cellsPerWell) && w.cellsPerWell >= 0))
      b.refuse(`well ${w.well}: cellsPerWell ${w.cellsPerWell} must be a whole number ≥ 0`);
  }
}

/** A suspension is a cell line at one density (cells per µL): wells that share it share a column. */
function groupBySuspension(wells: SeedWell[]): Suspension[] {
  const groups = new Map<string, Suspension>();
  for (const w of wells) {
    const cellsPerMicrolitre = Number((w.cellsPerWell / w.volumeMicrolitres).toPrecision(6));
    const key = `${w.cellLine}\u0000${cellsPerMicrolitre}`;
    let group = groups.get(key);
    if (!group) {
      const perMl = Math.round(cellsPerMicrolitre * 1000);
      group = {
        name: `${w.cellLine} ${perMl} cells/mL`,
        description: `${w.cellLine} suspension, ${perMl} cells/mL`,
        wells: [],
      };
      groups.set(key, group);
    }
    group.wells.push(w);
  }
  return [...groups.values()];
}
