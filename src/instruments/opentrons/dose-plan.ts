import { parseWell, wellName } from '../../lab/plate';
import type { CompoundStock, DosePlateRequest, DoseWell, WellName } from '../plate-driver';
import { planWellDilution, type WellDilution } from './dilution';
import { CAPACITY, DECK } from './equipment';
import {
  PlanBuilder,
  columnWells,
  groupBy,
  reservoirWells,
  roundMicrolitres,
  wholeColumns,
  type FinalTransfer,
  type PlannerConfig,
  type ProtocolPlan,
} from './plan';

/**
 * Dosing: per well, a working solution at the well's own position in a deep-well plate (medium +
 * neat DMSO + an aliquot of the compound's ten-fold DMSO ladder; the maths is in dilution.ts),
 * then V_a of it into the cell plate. Order on the deck, so no tip that touched compound touches
 * anything else: neat DMSO into the empty ladder and working wells (one tip), medium on top (one
 * tip, dispensed from the rim), ladder rungs (a tip each), compound aliquots (a tip each), and the
 * transfers into the cells (a tip each; 8-channel for whole columns at one volume).
 */

const LADDER_ROWS = 8;
const LADDER_MIN_RUNG_MICROLITRES = 100;
const MEDIUM = { name: 'medium', description: 'culture medium, no DMSO' };
const DMSO = { name: 'DMSO', description: 'neat DMSO (vehicle and ladder diluent)' };

interface DosedWellPlan {
  well: DoseWell;
  /** Index among the compounds drawn, or undefined for a vehicle. */
  compoundIndex?: number;
  dilution: WellDilution;
}

export function planDosing(request: DosePlateRequest, config: PlannerConfig): ProtocolPlan {
  // Typed explicitly so `b.refuse(...)` (returns never) narrows like a throw.
  const b: PlanBuilder = new PlanBuilder(request.operationKey, config.pipettes);
  if (!b.hasPipettes(1)) b.refuse('dosing prepares dilutions well by well and needs a 1-channel pipette');
  const stocks = validate(request, b);
  const compounds = [...new Set(request.wells.filter(drawsCompound).map((w) => w.compound))];
  if (compounds.length > 12) b.refuse(`${compounds.length} compounds on one plate; the ladder plate holds 12`);

  const wells: DosedWellPlan[] = request.wells.map((w) => {
    const stock = drawsCompound(w) ? stocks.get(w.compound)! : undefined;
    const result = planWellDilution({
      doseMicromolar: drawsCompound(w) ? w.doseMicromolar : 0,
      stockMicromolar: stock?.stockMicromolar ?? 1,
      addedMicrolitres: w.volumeMicrolitres,
      wellMicrolitres: w.wellVolumeMicrolitres!,
      dmsoFinalFraction: config.dmsoFinalFraction,
      minimumMicrolitres: config.minimumPipettingMicrolitres,
      maxWorkingMicrolitres: CAPACITY.deepWellMicrolitres - 100,
      workingDeadMicrolitres: CAPACITY.deepWellDeadMicrolitres,
      maxRung: LADDER_ROWS,
    });
    if (!result.ok) b.refuse(`well ${w.well} (${w.compound || 'vehicle'} ${w.doseMicromolar} µM): ${result.reason}`);
    const compoundIndex = drawsCompound(w) ? compounds.indexOf(w.compound) : undefined;
    return { well: w, dilution: result.dilution, ...(compoundIndex === undefined ? {} : { compoundIndex }) };
  });

  b.source('reservoir', reservoirWells(), CAPACITY.reservoirWellMicrolitres, CAPACITY.reservoirDeadMicrolitres);
  b.source('stocks', tubeWells(), CAPACITY.tubeMicrolitres, CAPACITY.tubeDeadMicrolitres);
  compounds.forEach((c, i) => b.reserve(stockLiquid(stocks.get(c)!), 'stocks', tubeWells()[i]!));

  // Ladder volumes, deepest rung first: each covers its aliquots, the next rung and the dead volume.
  const ladders = compounds.map((_, i) => {
    const users = wells.filter((w) => w.compoundIndex === i);
    const deepest = Math.max(...users.map((w) => w.dilution.rung!));
    const rungs: number[] = [];
    let next = 0;
    for (let k = deepest; k >= 1; k -= 1) {
      const drawn = users
        .filter((w) => w.dilution.rung === k)
        .reduce((sum, w) => sum + w.dilution.aliquotMicrolitres!, 0);
      const needed = Math.max(
        LADDER_MIN_RUNG_MICROLITRES,
        10 * config.minimumPipettingMicrolitres,
        drawn + next + CAPACITY.deepWellDeadMicrolitres,
      );
      const volume = Math.ceil(needed / 10) * 10;
      if (volume > CAPACITY.deepWellMicrolitres)
        b.refuse(`${compounds[i]} rung ${k} would need ${volume} µL, more than a deep well holds`);
      rungs[k] = volume;
      next = volume / 10;
    }
    return rungs;
  });
  const rungWell = (compoundIndex: number, k: number) => wellName({ rowIndex: k - 1, columnIndex: compoundIndex });

  // 1. Neat DMSO into empty wells: ladder diluent and working-solution top-ups.
  b.comment('Neat DMSO into the empty ladder and working wells');
  const dmsoDispenses: { labware: string; well: WellName; microlitres: number }[] = [];
  ladders.forEach((rungs, i) =>
    rungs.forEach((r, k) => {
      if (r) dmsoDispenses.push({ labware: 'ladder', well: rungWell(i, k), microlitres: 0.9 * r });
    }),
  );
  for (const w of wells)
    if (w.dilution.neatDmsoMicrolitres > 0)
      dmsoDispenses.push({ labware: 'working', well: w.well.well, microlitres: w.dilution.neatDmsoMicrolitres });
  distribute(b, DMSO, dmsoDispenses, 'bottom');

  // 2. Medium on top, from the rim.
  b.comment('Medium into the working wells');
  distribute(
    b,
    MEDIUM,
    wells.map((w) => ({ labware: 'working', well: w.well.well, microlitres: w.dilution.mediumMicrolitres })),
    'top',
  );

  // 3. Ladders: rung k = a tenth of rung k − 1 into its DMSO, mixed.
  ladders.forEach((rungs, i) => {
    const stock = stocks.get(compounds[i]!)!;
    rungs.forEach((r, k) => {
      if (!r) return;
      b.comment(`${stock.compound} rung ${k}: ${stock.stockMicromolar / 10 ** k} µM in DMSO`);
      const { mode, parts } = b.chooseSplit(r / 10, 1);
      b.withTip(mode, () => {
        for (const part of parts) {
          const source = k === 1 ? b.drawReserved(stockLiquid(stock).name, 'stocks', part) : rungWell(i, k - 1);
          b.aspirate(mode.pipette, k === 1 ? 'stocks' : 'ladder', source, part);
          b.dispense(mode.pipette, 'ladder', rungWell(i, k), part, 'bottom');
        }
        b.mix(mode.pipette, 'ladder', rungWell(i, k), 3, b.mixVolume(mode, r / 2));
      });
    });
  });

  // 4. Compound aliquots into the working solutions, mixed.
  for (const w of wells) {
    if (w.compoundIndex === undefined) continue;
    const stock = stocks.get(w.well.compound)!;
    const k = w.dilution.rung!;
    const { mode, parts } = b.chooseSplit(w.dilution.aliquotMicrolitres!, 1);
    b.withTip(mode, () => {
      for (const part of parts) {
        const source =
          k === 0 ? b.drawReserved(stockLiquid(stock).name, 'stocks', part) : rungWell(w.compoundIndex!, k);
        b.aspirate(mode.pipette, k === 0 ? 'stocks' : 'ladder', source, part);
        b.dispense(mode.pipette, 'working', w.well.well, part, 'bottom');
      }
      b.mix(mode.pipette, 'working', w.well.well, 3, b.mixVolume(mode, w.dilution.workingMicrolitres / 2));
    });
  }

  // 5. Into the cells: whole columns by 8-channel where one holds the volume, the rest one by one.
  const finalTransfers: FinalTransfer[] = [];
  const byWell = new Map(wells.map((w) => [w.well.well, w]));
  const columns = wholeColumns(request.wells).filter((c) => {
    const volume = byWell.get(wellName({ rowIndex: 0, columnIndex: c }))!.well.volumeMicrolitres;
    const mode = b.choose(volume, 8);
    return mode !== undefined && volume >= mode.minMicrolitres && volume <= mode.maxMicrolitres;
  });
  const inColumns = new Set(columns.flatMap(columnWells));
  b.comment('Working solutions into the cell plate');
  for (const c of columns) {
    const top = byWell.get(wellName({ rowIndex: 0, columnIndex: c }))!;
    const mode = b.choose(top.well.volumeMicrolitres, 8)!;
    const smallest = Math.min(...columnWells(c).map((name) => byWell.get(name)!.dilution.workingMicrolitres));
    b.withTip(mode, () => {
      b.mix(mode.pipette, 'working', top.well.well, 3, b.mixVolume(mode, smallest / 2));
      b.aspirate(mode.pipette, 'working', top.well.well, top.well.volumeMicrolitres);
      b.dispense(mode.pipette, 'plate', top.well.well, top.well.volumeMicrolitres, 'top');
      b.blowOut(mode.pipette, 'plate', top.well.well);
    });
    finalTransfers.push({
      wells: columnWells(c),
      destinationWell: top.well.well,
      pipette: mode.pipette,
      microlitres: top.well.volumeMicrolitres,
    });
  }
  for (const w of wells) {
    if (inColumns.has(w.well.well)) continue;
    const mode = b.choose(w.well.volumeMicrolitres, 1)!;
    b.withTip(mode, () => {
      // A compound's working solution was mixed when its aliquot went in; a vehicle's is mixed here.
      if (w.compoundIndex === undefined)
        b.mix(mode.pipette, 'working', w.well.well, 3, b.mixVolume(mode, w.dilution.workingMicrolitres / 2));
      b.aspirate(mode.pipette, 'working', w.well.well, w.well.volumeMicrolitres);
      b.dispense(mode.pipette, 'plate', w.well.well, w.well.volumeMicrolitres, 'top');
      b.blowOut(mode.pipette, 'plate', w.well.well);
    });
    finalTransfers.push({
      wells: [w.well.well],
      destinationWell: w.well.well,
      pipette: mode.pipette,
      microlitres: w.well.volumeMicrolitres,
    });
  }

  const liquids = b.plannedLiquids();
  const pipettes = b.plannedPipettes(DECK.freeSlots);
  const wellMap: Record<WellName, string> = {};
  for (const w of wells) wellMap[w.well.well] = describeWell(w, stocks);
  return {
    kind: 'dose',
    operationKey: request.operationKey,
    plateId: request.plateId,
    title: `cell_OS dose ${request.plateId} (${request.wells.length} wells)`,
    apiLevel: config.apiLevel,
    labware: [
      {
        name: 'plate',
        loadName: config.labware.plate[request.plateType ?? 'assay'],
        slot: DECK.plateSlot,
        label: `cell plate ${request.plateId}`,
      },
      { name: 'reservoir', loadName: config.labware.reservoir, slot: DECK.reservoirSlot, label: 'medium and DMSO' },
      { name: 'stocks', loadName: config.labware.stockRack, slot: DECK.stockRackSlot, label: 'compound stocks' },
      { name: 'ladder', loadName: config.labware.dilutionPlate, slot: DECK.ladderPlateSlot, label: 'DMSO ladders' },
      {
        name: 'working',
        loadName: config.labware.dilutionPlate,
        slot: DECK.workingPlateSlot,
        label: 'working solutions',
      },
    ]
      .filter((l) => l.name !== 'stocks' || compounds.length > 0)
      .filter((l) => l.name !== 'ladder' || ladders.some((r) => r.length > 0)),
    plateLabware: 'plate',
    pipettes,
    liquids,
    steps: b.steps,
    wellMap,
    finalTransfers,
    notes: [
      `Final DMSO ${config.dmsoFinalFraction * 100}% (v/v) in every well; dilution maths in cell_OS dilution.ts.`,
      ...compounds.map((c, i) => {
        const s = stocks.get(c)!;
        return `Tube ${tubeWells()[i]}: ${c} ${s.stockMicromolar} µM in DMSO, lot ${s.lot}; ladder column ${i + 1}.`;
      }),
      ...liquids.map(
        (l) =>
          `${l.name}: ${l.wells.map((w) => `${w.labware} ${w.well} ${roundMicrolitres(w.microlitres)} µL`).join(', ')}`,
      ),
    ],
  };
}

/** As the inventory does: a vehicle, or a compound at dose 0, draws no compound. */
function drawsCompound(w: DoseWell): boolean {
  return w.compound !== '' && w.doseMicromolar > 0;
}

function validate(request: DosePlateRequest, b: PlanBuilder): Map<string, CompoundStock> {
  if (request.wells.length === 0) b.refuse('no wells to dose');
  const stocks = new Map<string, CompoundStock>();
  for (const s of request.stocks) {
    if (stocks.has(s.compound)) b.refuse(`two stocks for ${s.compound}`);
    stocks.set(s.compound, s);
  }
  const seen = new Set<string>();
  for (const w of request.wells) {
    try {
      parseWell(w.well);
    } catch (error) {
      b.refuse((error as Error).message);
    }
    if (seen.has(w.well)) b.refuse(`well ${w.well} appears twice`);
    seen.add(w.well);
    if (!(Number.isFinite(w.doseMicromolar) && w.doseMicromolar >= 0))
      b.refuse(`well ${w.well}: doseMicromolar ${w.doseMicromolar} must be 0 (vehicle) or positive`);
    if (w.compound === '' && w.doseMicromolar > 0)
      b.refuse(`well ${w.well}: ${w.doseMicromolar} µM of nothing (a vehicle has compound "" and dose 0)`);
    if (!(Number.isFinite(w.volumeMicrolitres) && w.volumeMicrolitres > 0))
      b.refuse(`well ${w.well}: volumeMicrolitres ${w.volumeMicrolitres} must be positive`);
    if (w.wellVolumeMicrolitres === undefined || !(w.wellVolumeMicrolitres >= 0))
      b.refuse(
        `well ${w.well}: wellVolumeMicrolitres (the volume already in the well) is required to work out the ` +
          `dilution; got ${w.wellVolumeMicrolitres}`,
      );
    if (drawsCompound(w)) {
      const stock = stocks.get(w.compound);
      if (!stock) b.refuse(`well ${w.well}: no stock given for ${w.compound}`);
      if (!(stock.stockMicromolar > 0))
        b.refuse(`${w.compound}: stockMicromolar ${stock.stockMicromolar} must be positive`);
    }
  }
  return stocks;
}

function stockLiquid(stock: CompoundStock): { name: string; description: string } {
  return {
    name: `${stock.compound} stock`,
    description: `${stock.compound} ${stock.stockMicromolar} µM in DMSO, lot ${stock.lot}`,
  };
}

/** The 24 tubes of a 4 × 6 rack, column by column. */
function tubeWells(): WellName[] {
  const wells: WellName[] = [];
  for (let c = 1; c <= 6; c += 1) for (const r of 'ABCD') wells.push(`${r}${c}`);
  return wells;
}

/**
 * One liquid into many wells with one tip per pipette mode: only into empty wells (`bottom`) or
 * from the rim (`top`, with a blow-out), so the tip never carries anything back to the source.
 */
function distribute(
  b: PlanBuilder,
  liquid: { name: string; description: string },
  dispenses: { labware: string; well: WellName; microlitres: number }[],
  at: 'top' | 'bottom',
): void {
  const planned = dispenses.map((d) => ({ ...d, ...b.chooseSplit(d.microlitres, 1) }));
  const groups = groupBy(planned, (d) => `${d.mode.pipette}/${d.mode.lowVolume}`);
  for (const group of groups.values()) {
    const mode = group[0]!.mode;
    b.withTip(mode, () => {
      for (const d of group)
        for (const part of d.parts) {
          const source = b.draw(liquid, 'reservoir', part);
          b.aspirate(mode.pipette, 'reservoir', source, part);
          b.dispense(mode.pipette, d.labware, d.well, part, at);
          if (at === 'top') b.blowOut(mode.pipette, d.labware, d.well);
        }
    });
  }
}

function describeWell(w: DosedWellPlan, stocks: Map<string, CompoundStock>): string {
  const d = w.dilution;
  const r = roundMicrolitres;
  const working = `${r(d.workingMicrolitres)} µL working solution (${r(d.mediumMicrolitres)} medium + ${r(d.neatDmsoMicrolitres)} DMSO`;
  if (w.compoundIndex === undefined) return `vehicle: ${w.well.volumeMicrolitres} µL of ${working})`;
  const stock = stocks.get(w.well.compound)!;
  const source = d.rung === 0 ? 'stock' : `rung ${d.rung} (${stock.stockMicromolar / 10 ** d.rung!} µM)`;
  return (
    `${w.well.compound} ${w.well.doseMicromolar} µM final: ${w.well.volumeMicrolitres} µL of ${working} + ` +
    `${r(d.aliquotMicrolitres!)} µL ${source}) at ${Number(d.workingMicromolar.toPrecision(6))} µM` +
    (d.dmsoShortfall > 0 ? `; DMSO ${(d.dmsoShortfall * 100).toFixed(1)}% under target (top-up < floor)` : '')
  );
}
