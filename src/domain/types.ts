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

export type PairState = 'estimating' | 'answered' | 'out of range' | 'inactive';

/** The learner's current view of one (cell line, compound) pair. */
export interface PairEstimate {
  cellLine: string;
  compound: string;
  wells: number;
  state: PairState;
  /** Best current IC50 estimate in µM; absent before there is enough data. */
  ic50Micromolar?: number;
  /** 95% interval on the IC50 in µM, when the learner can give one. */
  ic50LowMicromolar?: number;
  ic50HighMicromolar?: number;
  hillSlope?: number;
  top?: number;
  bottom?: number;
  /** Free-form note, e.g. "IC50 below the tested range". */
  note?: string;
}

export function pairKey(cellLine: string, compound: string): string {
  return `${cellLine}|${compound}`;
}
