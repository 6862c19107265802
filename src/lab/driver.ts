import type { Assay, RawReadout, WellLocation } from '../domain/types';

/**
 * The hardware boundary. Activities call a LabDriver; the virtual lab implements it today, real
 * instruments (liquid handler, incubator, reader, imager) later. Every operation carries an
 * `operationKey` derived from the workflow and activity ids: a driver must treat a repeated key
 * as the same physical operation (return the first outcome, never act twice).
 */
export interface LabDriver {
  seed(request: SeedRequest): Promise<SeedReceipt>;
  dose(request: DoseRequest): Promise<DoseReceipt>;
  read(request: ReadRequest): Promise<RawReadout>;
  /**
   * Whether the instrument working on this attempt still answers. The activity heartbeats only
   * while it does, so a hung instrument trips the activity's heartbeat timeout and the attempt is
   * retried. A driver that cannot tell leaves it out (always responsive).
   */
  responsive?(attempt: { operationKey: string; attempt: number }): boolean;
  close(): Promise<void>;
}

/** The curve the virtual lab simulates a pair from (its profile's, never a request's). */
export type { PairResponse as PairResponseTruth } from '../config/lab-profile';

export interface FaultProfile {
  /** Probability per experiment that the culture is found contaminated at read (permanent). */
  contaminationRate: number;
  /** Probability per operation attempt of a transient instrument error (retried), on any instrument. */
  transientErrorRate: number;
  /** Faults of one instrument (keys: "liquid-handler", "incubator", "plate-reader", "imager"). */
  instruments?: Partial<Record<string, InstrumentFaultProfile>>;
}

/**
 * What can go wrong with one instrument. Rates are probabilities per operation attempt that uses
 * the instrument, except `plateDropRate` (per plate and step: a dropped plate loses every well).
 */
export interface InstrumentFaultProfile {
  /** A transient error: nothing happens, the attempt fails and is retried. */
  transientErrorRate?: number;
  /** The operation takes `latencySpikeMs` longer (the instrument keeps answering meanwhile). */
  latencySpikeRate?: number;
  latencySpikeMs?: number;
  /** The instrument stops answering for `hangMs`; the heartbeat timeout retries the attempt. */
  hangRate?: number;
  hangMs?: number;
  /** The instrument goes offline for `offlineSeconds`; experiments wait for it. */
  offlineRate?: number;
  offlineSeconds?: number;
  /** The instrument drops the plate (permanent: every well of the plate fails at this step). */
  plateDropRate?: number;
}

export interface SeedRequest {
  operationKey: string;
  location: WellLocation;
  cellLine: string;
  cellsPerWell: number;
  volumeMicrolitres: number;
  /** Attempt number of the calling activity (1-based); fault injection draws per attempt. */
  attempt: number;
  /**
   * Logical plate label that stays the same across reruns of one campaign (e.g. "<campaign
   * name>/p003"), as a barcode scheme would; the virtual lab keys its random streams by it, so a
   * rerun on new physical plates reads the same numbers. Defaults to the plate id.
   */
  plateLabel?: string;
}

export interface DoseRequest {
  operationKey: string;
  location: WellLocation;
  /** Empty string with dose 0 for a vehicle (DMSO) control. */
  compound: string;
  doseMicromolar: number;
  volumeMicrolitres: number;
  /** Lab hours the cells attached before dosing (the workflow timer that ran). */
  attachmentHours: number;
  attempt: number;
}

export interface ReadRequest {
  operationKey: string;
  location: WellLocation;
  assay: Assay;
  /** Lab hours between dosing and reading. */
  treatmentHours: number;
  attempt: number;
}

export interface SeedReceipt {
  cellsSeeded: number;
  volumeMicrolitres: number;
}

export interface DoseReceipt {
  doseMicromolar: number;
  volumeMicrolitres: number;
}

/**
 * Fault type for an instrument that is switched off, in maintenance or unreachable. The experiment
 * workflow waits for it on a durable timer (and tells its campaign which instrument it waits for)
 * instead of burning through activity retries.
 */
export { INSTRUMENT_OFFLINE } from '../domain/failures';

/**
 * A fault the hardware reported. `permanent` faults (contamination, a dropped plate, a physically
 * impossible request) end the experiment; transient ones are retried by the activity's policy.
 */
export class LabFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly permanent: boolean,
    /** The instrument that reported it, e.g. "plate reader"; required for type "InstrumentOffline". */
    readonly instrument?: string,
  ) {
    super(message);
    this.name = 'LabFault';
  }
}
