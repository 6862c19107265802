/**
 * Every failure type the system gives a name to, in one place: the lab and its drivers raise
 * them, activities carry them as ApplicationFailure types, workflows branch on them and the CLI
 * shows them. Plain constants, safe to import from workflow code.
 */

/** A culture found contaminated at read (permanent: the well is lost). */
export const CONTAMINATION = 'Contamination';
/** The instrument dropped the plate (permanent for every well on it). */
export const PLATE_DROPPED = 'PlateDropped';
/** A request no lab could carry out (a negative dose, a reused key for another step…). */
export const INVALID_OPERATION = 'InvalidOperation';
/** The lab has no model of this line, or of this (line, compound) pair: it refuses to invent one. */
export const UNKNOWN_BIOLOGY = 'UnknownBiology';
/** A transient or unexplained instrument error. */
export const INSTRUMENT_FAULT = 'InstrumentFault';
/** The instrument is switched off or unreachable: the experiment waits for it on timers. */
export const INSTRUMENT_OFFLINE = 'InstrumentOffline';
/** The lab lacks something a step consumes: the experiment waits for a restock on timers. */
export const OUT_OF_STOCK = 'OutOfStock';
/** Every slot of the instrument is leased: the attempt is retried. */
export const INSTRUMENT_BUSY = 'InstrumentBusy';
/** A restock request that can never succeed as sent. */
export const INVALID_RESTOCK = 'InvalidRestock';
/**
 * The lab worker's SQLite file is damaged or unreadable. Retryable: the worker that found it stops
 * taking tasks, so the retry runs on a healthy worker instead of burning attempts on this one.
 */
export const LAB_FILE_UNHEALTHY = 'LabFileUnhealthy';
/** The Opentrons analyzer (or robot) refused a protocol. */
export const PROTOCOL_REJECTED = 'ProtocolRejected';

/** A well a stopped campaign never got to (it waited for stock, an instrument or a person): nothing more was done. */
export const NOT_RUN_STOPPED = 'NotRunStopped';

/** Failure types that end one experiment (its well), as the campaign records them. */
export const EXPERIMENT_FAILURE_TYPES = [
  CONTAMINATION,
  PLATE_DROPPED,
  INVALID_OPERATION,
  UNKNOWN_BIOLOGY,
  INSTRUMENT_FAULT,
  PROTOCOL_REJECTED,
  NOT_RUN_STOPPED,
] as const;
export type ExperimentFailureType = (typeof EXPERIMENT_FAILURE_TYPES)[number];

/** A restock started without a key while another restock of the item is still queued (it could double it). */
export const RESTOCK_ALREADY_QUEUED = 'RestockAlreadyQueued';
/** A stockroom request that reached the stockroom after its caller stopped waiting: nothing was done. */
export const STOCKROOM_REQUEST_WITHDRAWN = 'StockroomRequestWithdrawn';
