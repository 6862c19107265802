import type { CellLineBiology } from '../config/lab-profile';
import type { Assay, RawReadout } from '../domain/types';
import type { PairResponseTruth } from './driver';
import { CONFLUENT_CELLS_PER_WELL } from './plate';
import type { RandomStream } from './rng';

/**
 * The virtual lab's cell biology and instruments as pure functions of plain numbers.
 *
 * Cells are simulated as counts, not as a response curve: a culture grows (lag, then exponential
 * growth slowed by confluence), a compound slows its growth and kills part of it, and the assay
 * reads the surviving count. The Hill curve of the lab profile is the calibration target: at the
 * profile's reference treatment length (`referenceHours`) the vehicle-normalised count of a well
 * equals its Hill fraction alive. Longer treatments look more potent and fast-dividing lines more sensitive,
 * as in real assays, because growth inhibition compounds over time.
 */

export const LAG_HOURS = 12;
export const GROWTH_STEP_HOURS = 0.25;
export const EDGE_GROWTH_FACTOR = 0.85;
export const EDGE_EVAPORATION_SIGNAL_FACTOR = 0.95;
/** Reference treatment length of a curve that states none (the original simulator's). */
export const REFERENCE_TREATMENT_HOURS = 24;
export const PIPETTING_CV = 0.02;
export const EDGE_EXTRA_PIPETTING_CV = 0.01;
export const IMAGING_CHANNELS = ['DAPI', 'GFP', 'RFP'] as const;
export const IMAGING_SITES_PER_WELL = 9;

/** Killing is not instantaneous: dying cells are lost with this time constant after dosing. */
const KILL_ONSET_HOURS = 4;
/** Morphology changes develop over hours after dosing. */
const PHENOTYPE_ONSET_HOURS = 8;
const PHENOTYPE_NOISE_SD = 0.03;
const LUMINESCENCE_RLU_PER_CELL = 50;
const LUMINESCENCE_BLANK_RLU = 800;
const LUMINESCENCE_ASSAY_CV = 0.05;
const FLUORESCENCE_RFU_PER_CELL = 2;
const FLUORESCENCE_BACKGROUND_RFU = 150;
const FLUORESCENCE_ASSAY_CV = 0.06;
const BACKGROUND_CV = 0.1;

/**
 * Hill fraction alive at a dose: bottom + (top - bottom) / (1 + (dose / IC50)^h). A zero dose is
 * the vehicle: nothing was added, so the fraction is 1 whatever the compound's top plateau.
 */
export function hillFractionAlive(doseMicromolar: number, truth: PairResponseTruth): number {
  if (doseMicromolar <= 0) return 1;
  const ratio = Math.pow(doseMicromolar / truth.ic50Micromolar, truth.hillSlope);
  return truth.bottom + (truth.top - truth.bottom) / (1 + ratio);
}

/**
 * One well's own fraction alive: the Hill effect (1 - fraction) multiplied by N(1, bioCv), because
 * replicate cultures never respond identically. Clipped to [0, 1].
 */
export function wellFractionAlive(
  doseMicromolar: number,
  truth: PairResponseTruth | undefined,
  bioCv: number,
  noise: RandomStream,
): number {
  if (!truth || doseMicromolar <= 0) return 1;
  const effect = (1 - hillFractionAlive(doseMicromolar, truth)) * noise.gaussian(1, bioCv);
  return 1 - clamp(effect, 0, 1);
}

/** Multiplicative pipetting error on a volume (and so on the cells or compound it carries). */
export function pipettingFactor(edge: boolean, noise: RandomStream): number {
  return Math.max(0, noise.gaussian(1, PIPETTING_CV + (edge ? EDGE_EXTRA_PIPETTING_CV : 0)));
}

/** One culture's life from seeding to read, in lab hours. */
export interface CultureHistory {
  cellsSeeded: number;
  biology: CellLineBiology;
  edge: boolean;
  attachmentHours: number;
  treatmentHours: number;
  /** The well's vehicle-normalised fraction alive at the reference treatment length; 1 for vehicle. */
  fractionAlive: number;
  /** Treatment hours at which `fractionAlive` holds (the curve's referenceHours). */
  referenceHours?: number;
}

/**
 * Viable cells in the well at read. The compound slows growth by its effect (1 - fractionAlive)
 * and kills a share calibrated so that, after REFERENCE_TREATMENT_HOURS, the well holds exactly
 * `fractionAlive` times the cells of an identical vehicle well. If growth inhibition alone already
 * goes further (very fast-dividing lines), nothing is killed.
 */
export function viableCellsAtRead(history: CultureHistory): number {
  const culture = cultureOf(history);
  const effect = 1 - history.fractionAlive;
  if (effect <= 0) return grow(culture, history.treatmentHours, 0, 1);
  const killSurvival = calibrateKillSurvival(
    culture,
    effect,
    history.fractionAlive,
    history.referenceHours ?? REFERENCE_TREATMENT_HOURS,
  );
  return grow(culture, history.treatmentHours, effect, killSurvival);
}

/**
 * The noise-free vehicle-normalised response of a dose under a protocol: what an infinite number
 * of replicate wells would average to. Equals the Hill fraction at the reference treatment length;
 * evaluation code can use it as the true curve for other protocols.
 */
export function expectedNormalisedResponse(input: {
  biology: CellLineBiology;
  truth: PairResponseTruth;
  doseMicromolar: number;
  cellsSeeded: number;
  attachmentHours: number;
  treatmentHours: number;
}): number {
  const base = { ...input, edge: false, referenceHours: input.truth.referenceHours };
  const vehicle = viableCellsAtRead({ ...base, fractionAlive: 1 });
  const treated = viableCellsAtRead({ ...base, fractionAlive: hillFractionAlive(input.doseMicromolar, input.truth) });
  return treated / vehicle;
}

/**
 * The dose at which the noise-free normalised response crosses 0.5 under a protocol (the absolute
 * IC50 a perfect experiment would report), or undefined when the curve never reaches 0.5 within
 * 1e-6 × .. 1e6 × the table IC50 (e.g. a bottom plateau above 0.5). Equals the table IC50 for a
 * full-range curve at the reference treatment length.
 */
export function protocolIc50Micromolar(input: {
  biology: CellLineBiology;
  truth: PairResponseTruth;
  cellsSeeded: number;
  attachmentHours: number;
  treatmentHours: number;
}): number | undefined {
  const responseAt = (log10Dose: number) => expectedNormalisedResponse({ ...input, doseMicromolar: 10 ** log10Dose });
  let low = Math.log10(input.truth.ic50Micromolar) - 6;
  let high = Math.log10(input.truth.ic50Micromolar) + 6;
  if (responseAt(low) < 0.5 || responseAt(high) > 0.5) return undefined;
  for (let i = 0; i < 50; i++) {
    const mid = (low + high) / 2;
    if (responseAt(mid) > 0.5) low = mid;
    else high = mid;
  }
  return 10 ** ((low + high) / 2);
}

/** What an assay reads from a well holding `viableCells`. */
export interface MeasurementInput {
  assay: Assay;
  viableCells: number;
  biology: CellLineBiology;
  edge: boolean;
  /** The well's fraction alive (1 for vehicle); drives the imaging phenotype. */
  fractionAlive: number;
  treatmentHours: number;
  noise: RandomStream;
}

/**
 * Instrument readout of a well. Luminescence (ATP, RLU) and reporter fluorescence (RFU) are
 * proportional to viable cells with the line's well CV, a lognormal assay CV and a background;
 * imaging counts nuclei (count CV) and scores morphology. Edge wells lose ~5% of signal to
 * evaporation on top of their slower growth.
 */
export function measure(input: MeasurementInput): RawReadout {
  const { assay, biology, noise } = input;
  const cells = input.viableCells * (input.edge ? EDGE_EVAPORATION_SIGNAL_FACTOR : 1);
  switch (assay) {
    case 'viability': {
      const specific = cells * LUMINESCENCE_RLU_PER_CELL * wellFactor(biology.viabilityCv, noise);
      const blank = LUMINESCENCE_BLANK_RLU * noise.lognormalFactor(BACKGROUND_CV);
      return { assay, signal: specific * noise.lognormalFactor(LUMINESCENCE_ASSAY_CV) + blank };
    }
    case 'reporter': {
      const specific = cells * FLUORESCENCE_RFU_PER_CELL * wellFactor(biology.viabilityCv, noise);
      const background = FLUORESCENCE_BACKGROUND_RFU * noise.lognormalFactor(BACKGROUND_CV);
      return { assay, signal: specific * noise.lognormalFactor(FLUORESCENCE_ASSAY_CV) + background };
    }
    case 'imaging': {
      const cellCount = Math.round(cells * wellFactor(biology.countCv, noise));
      const onset = 1 - Math.exp(-input.treatmentHours / PHENOTYPE_ONSET_HOURS);
      const phenotypeScore = clamp((1 - input.fractionAlive) * onset + noise.gaussian(0, PHENOTYPE_NOISE_SD), 0, 1);
      const imageCount = IMAGING_CHANNELS.length * IMAGING_SITES_PER_WELL;
      return { assay, signal: cellCount, cellCount, phenotypeScore, imageCount };
    }
  }
}

interface Culture {
  cellsSeeded: number;
  /** Per-hour growth rate of an unlagged, unconfluent culture in this well. */
  ratePerHour: number;
  confluentCells: number;
  maxConfluence: number;
  attachmentHours: number;
}

function cultureOf(history: CultureHistory): Culture {
  return {
    cellsSeeded: history.cellsSeeded,
    ratePerHour: (Math.LN2 / history.biology.doublingHours) * (history.edge ? EDGE_GROWTH_FACTOR : 1),
    confluentCells: CONFLUENT_CELLS_PER_WELL,
    maxConfluence: history.biology.maxConfluence,
    attachmentHours: history.attachmentHours,
  };
}

/** Largest kill survival in [0, 1] that brings the treated/vehicle ratio at the reference length to target. */
function calibrateKillSurvival(culture: Culture, effect: number, target: number, referenceHours: number): number {
  const vehicle = grow(culture, referenceHours, 0, 1);
  const ratio = (survival: number) => grow(culture, referenceHours, effect, survival) / vehicle;
  if (ratio(1) <= target) return 1;
  if (target <= 0) return 0;
  // The ratio rises monotonically with survival, so bisection converges; 40 halvings reach ~1e-12.
  let low = 0;
  let high = 1;
  for (let i = 0; i < 40; i++) {
    const mid = (low + high) / 2;
    if (ratio(mid) < target) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/**
 * Integrate the culture from seeding to the read, in GROWTH_STEP_HOURS steps (one big step would
 * overshoot the confluence cap). Growth ramps up linearly over the lag phase and is slowed by
 * g = max(0, 1 - (confluence / max)^2); during treatment it is further scaled by (1 - effect) and
 * the culture loses cells until only `killSurvival` of them would remain.
 */
function grow(culture: Culture, treatmentHours: number, effect: number, killSurvival: number): number {
  const beforeDosing = integrate(culture, culture.cellsSeeded, 0, culture.attachmentHours, 1);
  const survivalAt = (sinceDoseHours: number) =>
    killSurvival + (1 - killSurvival) * Math.exp(-sinceDoseHours / KILL_ONSET_HOURS);
  let cells = beforeDosing;
  let hours = 0;
  while (hours < treatmentHours) {
    const step = Math.min(GROWTH_STEP_HOURS, treatmentHours - hours);
    cells = integrate(culture, cells, culture.attachmentHours + hours, step, 1 - effect);
    cells *= survivalAt(hours + step) / survivalAt(hours);
    hours += step;
  }
  return cells;
}

function integrate(
  culture: Culture,
  startCells: number,
  fromHours: number,
  durationHours: number,
  growthScale: number,
): number {
  let cells = startCells;
  let elapsed = 0;
  while (elapsed < durationHours) {
    const step = Math.min(GROWTH_STEP_HOURS, durationHours - elapsed);
    const midpointHours = fromHours + elapsed + step / 2;
    const lag = Math.min(1, midpointHours / LAG_HOURS);
    const confluence = cells / culture.confluentCells;
    const room = Math.max(0, 1 - (confluence / culture.maxConfluence) ** 2);
    cells *= Math.exp(culture.ratePerHour * lag * room * growthScale * step);
    elapsed += step;
  }
  return cells;
}

function wellFactor(cv: number, noise: RandomStream): number {
  return Math.max(0, noise.gaussian(1, cv));
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
