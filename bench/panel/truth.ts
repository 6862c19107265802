import type { CellLineBiology, LabProfile, PairResponse } from '../../src/config/lab-profile';
import { pairResponse } from '../../src/config/lab-profile';
import { expectedNormalisedResponse, protocolIc50Micromolar } from '../../src/lab/biology';

/**
 * What a perfect experiment would report for a pair under the campaign's protocol, computed from
 * the lab profile through the virtual lab's own count model (growth, kill, vehicle normalisation):
 * the relative IC50 (midpoint between the curve's plateaus) and the absolute IC50 (response 0.5),
 * each its own truth.
 */

export interface Protocol {
  attachmentHours: number;
  treatmentHours: number;
  cellsSeeded: number;
}

export interface PairTruth {
  /** log10 µM; the relative IC50 always exists. */
  relativeLog10: number;
  /** log10 µM; null when the curve never reaches 0.5. */
  absoluteLog10: number | null;
  top: number;
  bottom: number;
  /** The profile's stated curve (at its referenceHours). */
  stated: PairResponse;
}

function biologyOf(profile: LabProfile, cellLine: string): CellLineBiology {
  const b = profile.cellLines[cellLine];
  if (!b) throw new Error(`the panel profile has no cell line ${cellLine}`);
  return b;
}

export function responseAt(
  profile: LabProfile,
  cellLine: string,
  compound: string,
  protocol: Protocol,
  log10Dose: number,
): number {
  const truth = pairResponse(profile, cellLine, compound);
  if (!truth) throw new Error(`the panel profile has no curve for ${cellLine} × ${compound}`);
  return expectedNormalisedResponse({
    biology: biologyOf(profile, cellLine),
    truth,
    doseMicromolar: 10 ** log10Dose,
    ...protocol,
  });
}

/** The log10 dose at which a monotone falling response crosses `level` (bisection over ±8 logs of the IC50). */
export function doseForResponse(response: (x: number) => number, centre: number, level: number): number | null {
  let lo = centre - 8;
  let hi = centre + 8;
  if (response(lo) < level || response(hi) > level) return null;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (response(mid) > level) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export function pairTruth(profile: LabProfile, cellLine: string, compound: string, protocol: Protocol): PairTruth {
  const stated = pairResponse(profile, cellLine, compound);
  if (!stated) throw new Error(`the panel profile has no curve for ${cellLine} × ${compound}`);
  const c = Math.log10(stated.ic50Micromolar);
  const f = (x: number) => responseAt(profile, cellLine, compound, protocol, x);
  const top = f(c - 8);
  const bottom = f(c + 8);
  const relativeLog10 = doseForResponse(f, c, (top + bottom) / 2)!;
  const abs = protocolIc50Micromolar({ biology: biologyOf(profile, cellLine), truth: stated, ...protocol });
  return { relativeLog10, absoluteLog10: abs === undefined ? null : Math.log10(abs), top, bottom, stated };
}
