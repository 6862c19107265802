/**
 * Plain data that crosses every boundary: campaign workflow ↔ learner ↔ experiment workflow ↔ lab.
 * Everything here is JSON-safe (no Map, no Date, no class instances) so it survives Temporal
 * payloads and continue-as-new unchanged.
 */

export const ASSAYS = ['viability', 'reporter', 'imaging'] as const;
export type Assay = (typeof ASSAYS)[number];

/** One well's worth of work the learner asks for. `doseMicromolar: 0` is a vehicle (DMSO) control. */
export interface Proposal {
  /** Unique within the campaign, stable across continue-as-new (e.g. "i3-e07"). */
  proposalId: string;
  cellLine: string;
  compound: string;
  doseMicromolar: number;
  assay: Assay;
  /** True for vehicle controls: no compound, used to normalise the plate. */
  isControl: boolean;
}

/** Where a proposal physically runs. Assigned by the campaign before the experiment starts. */
export interface WellLocation {
  plateId: string;
  /** e.g. "B7" */
  well: string;
}

/** Raw instrument output for one well, before normalisation to the plate's vehicle controls. */
export interface RawReadout {
  assay: Assay;
  /** Luminescence (RLU), fluorescence (RFU) or imaged cell count, depending on the assay. */
  signal: number;
  /** Imaging only. */
  cellCount?: number;
  /** Imaging only: 0 (vehicle-like) .. 1 (fully perturbed morphology). */
  phenotypeScore?: number;
  /** Imaging only: channels × sites. */
  imageCount?: number;
}

import type { ExperimentFailureType } from './failures';

export interface ExperimentFailure {
  type: ExperimentFailureType | string;
  message: string;
}

/** What the campaign records per proposal once its experiment has ended. */
export interface ExperimentOutcome {
  proposal: Proposal;
  location: WellLocation;
  experimentWorkflowId: string;
  status: 'succeeded' | 'failed';
  readout?: RawReadout;
  /**
   * Readout divided by the mean of the same line's vehicle controls on the same plate
   * (≈1 for vehicle, →0 as cells die). Absent when the experiment failed or the plate had
   * no usable control for this line.
   */
  normalisedResponse?: number;
  failure?: ExperimentFailure;
  /** Money actually spent on what was physically done (a failed experiment still costs). */
  costUsd: number;
  /** The physical steps that were done (a failed experiment stops part-way). */
  completedSteps?: ('seed' | 'dose' | 'measure')[];
  iteration: number;
}

/** What the learner sees: successful, normalised, non-control observations per pair. */
export interface Observation {
  cellLine: string;
  compound: string;
  doseMicromolar: number;
  response: number;
  plateId: string;
  iteration: number;
}

/**
 * Where a pair stands. `well cap`: it used the campaign's `maxWellsPerPair` without reaching its
 * goal; `inactive`: no effect up to the highest dose it may use; `out of range`: the goal dose lies
 * beyond the doses it may use (after any range extension).
 */
export type PairState = 'estimating' | 'answered' | 'out of range' | 'inactive' | 'well cap';

/**
 * One IC50 as data, in µM. `null` ends are unbounded: an inactive pair's IC50 is
 * `{ micromolar: null, lowMicromolar: 30, highMicromolar: null }` ("IC50 > 30 µM"), never a
 * finite interval the data cannot support.
 */
export interface Ic50Value {
  /** Posterior median; null when the data bound the IC50 on one side only. */
  micromolar: number | null;
  /** 95% interval; null where it is unbounded (beyond the doses run, or never reached). */
  lowMicromolar: number | null;
  highMicromolar: number | null;
  /** Backed by data on both sides (≥ 2 doses beyond each bend for the relative, each side of 50% for the absolute). */
  supported: boolean;
}

/** The learner's current view of one (cell line, compound) pair. */
export interface PairEstimate {
  cellLine: string;
  compound: string;
  wells: number;
  state: PairState;
  /** Best current IC50 estimate in µM; absent before there is enough data or when only a bound is known. */
  ic50Micromolar?: number;
  /** 95% interval on the IC50 in µM; an end is absent when it is unbounded. */
  ic50LowMicromolar?: number;
  ic50HighMicromolar?: number;
  /** Relative IC50 (midpoint of the fitted plateaus) and absolute IC50 (response 0.5). */
  relativeIc50?: Ic50Value;
  absoluteIc50?: Ic50Value;
  /** The goal dose lies beyond the campaign's configured range on this side (P ≥ 0.95), extended or not. */
  outOfRange?: 'above' | 'below';
  /** The doses (µM) this pair may use now: the configured range, or as extended. */
  doseRangeMicromolar?: { min: number; max: number };
  /** Why the pair stopped short of its goal (well cap, budget, iterations, a stop), when it did. */
  stopReason?: string;
  hillSlope?: number;
  top?: number;
  bottom?: number;
  /** Free-form note, e.g. "IC50 below the tested range". */
  note?: string;
}

export function pairKey(cellLine: string, compound: string): string {
  return `${cellLine}|${compound}`;
}
