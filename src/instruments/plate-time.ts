import type { LabConfig } from '../config/lab-config';
import { columnOf, isWellName } from '../lab/plate';
import type { DoseWell, SeedWell } from './plate-driver';

/**
 * How long a plate step keeps its instrument busy, in lab seconds, from the work it does: the
 * virtual lab's instrument time, and what the lab benchmark's lower bound is built from.
 *
 * The liquid handler has a multi-channel head: one tip load and one move serve a column's wells
 * that get the same liquid (the same cell line at the same density; the same compound at the
 * same dose), and each further distinct liquid in a column costs its own tips and move. Dosing
 * first prepares each distinct working dilution (one single-channel move each). A reader reads the
 * plate in one pass; an imager takes `sites × channels` exposures per well.
 */
export function seedPlateSeconds(config: LabConfig, wells: readonly SeedWell[]): number {
  const lh = config.liquidHandler;
  const moves = headMoves(wells, lh.channels, (w) => `${w.cellLine}|${w.cellsPerWell}|${w.volumeMicrolitres}`);
  return lh.secondsPerRun + moves * (lh.secondsPerTipLoad + lh.secondsPerTransfer);
}

export function dosePlateSeconds(config: LabConfig, wells: readonly DoseWell[]): number {
  const lh = config.liquidHandler;
  const liquid = (w: DoseWell) => `${w.compound}|${w.doseMicromolar}|${w.volumeMicrolitres}`;
  const dilutions = new Set(wells.filter((w) => w.compound !== '').map(liquid)).size;
  const moves = headMoves(wells, lh.channels, liquid);
  return lh.secondsPerRun + (dilutions + moves) * (lh.secondsPerTipLoad + lh.secondsPerTransfer);
}

export function readPlateSeconds(config: LabConfig, wells: number): number {
  return config.plateReader.secondsPerPlate + wells * config.plateReader.secondsPerWell;
}

export function imagePlateSeconds(config: LabConfig, wells: number): number {
  const im = config.imager;
  return wells * (im.secondsPerWell + im.sitesPerWell * im.channels * im.secondsPerSite);
}

/** Head moves: per column, one per distinct liquid, split into groups of at most `channels`. */
function headMoves<W extends { well: string }>(
  wells: readonly W[],
  channels: number,
  liquid: (w: W) => string,
): number {
  const byColumnAndLiquid = new Map<string, number>();
  for (const w of wells) {
    // A misnamed well is refused by the instrument; here it only counts as a column of its own.
    const key = `${isWellName(w.well) ? columnOf(w.well) : w.well}|${liquid(w)}`;
    byColumnAndLiquid.set(key, (byColumnAndLiquid.get(key) ?? 0) + 1);
  }
  let moves = 0;
  for (const n of byColumnAndLiquid.values()) moves += Math.ceil(n / channels);
  return moves;
}
