import type { ExperimentOutcome } from '../domain/types';

/**
 * Plate quality from the wells a campaign already has. The campaign runs no dedicated positive
 * control, so Z′ compares each plate's vehicle wells with its most-killed treatment wells: the k
 * treatment wells with the lowest normalised response, k = the plate's number of usable vehicle
 * wells (at least 2). That is the assay window the plate actually showed. A plate whose doses
 * killed little gets a low Z′ for want of a window, not for noise: read it with the kill column.
 * Both groups are vehicle-normalised responses, so plates holding several lines compare alike, and
 * the vehicle CV is the within-line scatter of vehicle wells (each line's vehicle mean is 1).
 */

export interface PlateQc {
  plateId: string;
  iteration: number;
  wells: number;
  failedWells: number;
  vehicleWells: number;
  vehicleMean?: number;
  vehicleSd?: number;
  vehicleCv?: number;
  /** How many of the most-killed treatment wells were used as the positive group. */
  killedWells: number;
  killedMean?: number;
  killedSd?: number;
  zPrime?: number;
}

/** Z′ ≥ 0.5 is the usual bar for a usable plate (DOMAIN.md). */
export const USABLE_Z_PRIME = 0.5;

export function mean(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((s, v) => s + v, 0) / values.length;
}

/** Sample standard deviation (n - 1); undefined below 2 values. */
export function sampleSd(values: readonly number[]): number | undefined {
  if (values.length < 2) return undefined;
  const m = mean(values)!;
  return Math.sqrt(values.reduce((s, v) => s + (v - m) * (v - m), 0) / (values.length - 1));
}

/** SD / mean; undefined below 2 values or for a non-positive mean. */
export function coefficientOfVariation(values: readonly number[]): number | undefined {
  const m = mean(values);
  const sd = sampleSd(values);
  return m === undefined || sd === undefined || !(m > 0) ? undefined : sd / m;
}

/**
 * Z′ = 1 − 3 (sd₊ + sd₋) / |mean₊ − mean₋| (Zhang, Chung & Oldenburg 1999). Undefined when either
 * group has fewer than 2 values or the means coincide.
 */
export function zPrime(positive: readonly number[], negative: readonly number[]): number | undefined {
  const sdP = sampleSd(positive);
  const sdN = sampleSd(negative);
  if (sdP === undefined || sdN === undefined) return undefined;
  const window = Math.abs(mean(positive)! - mean(negative)!);
  if (!(window > 0)) return undefined;
  return 1 - (3 * (sdP + sdN)) / window;
}

/** One row per plate, in plate order of first appearance. */
export function plateQc(outcomes: readonly ExperimentOutcome[]): PlateQc[] {
  const plates = new Map<string, ExperimentOutcome[]>();
  for (const o of outcomes) {
    const list = plates.get(o.location.plateId);
    if (list) list.push(o);
    else plates.set(o.location.plateId, [o]);
  }
  return [...plates.entries()].map(([plateId, wells]) => {
    const usable = (o: ExperimentOutcome) => o.status === 'succeeded' && o.normalisedResponse !== undefined;
    const vehicle = wells.filter((o) => o.proposal.isControl && usable(o)).map((o) => o.normalisedResponse!);
    const treated = wells
      .filter((o) => !o.proposal.isControl && usable(o))
      .map((o) => o.normalisedResponse!)
      .sort((a, b) => a - b);
    const killed = treated.slice(0, Math.max(2, vehicle.length));
    const row: PlateQc = {
      plateId,
      iteration: Math.min(...wells.map((o) => o.iteration)),
      wells: wells.length,
      failedWells: wells.filter((o) => o.status === 'failed').length,
      vehicleWells: vehicle.length,
      killedWells: killed.length,
    };
    const optional = {
      vehicleMean: mean(vehicle),
      vehicleSd: sampleSd(vehicle),
      vehicleCv: coefficientOfVariation(vehicle),
      killedMean: mean(killed),
      killedSd: sampleSd(killed),
      zPrime: zPrime(killed, vehicle),
    };
    for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(row, { [k]: v });
    return row;
  });
}
