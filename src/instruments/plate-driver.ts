import type { Assay, RawReadout } from '../domain/types';

/**
 * The hardware boundary, by plate step. A liquid handler runs one protocol per plate step (seed a
 * plate map, dose a plate map), a reader reads a whole plate, an imager images a plate in one run:
 * so each call here is one physical protocol run on one plate, and it answers well by well.
 *
 * Every request carries an `operationKey` (one per plate step of one plate, stable across retries,
 * replays and worker crashes). A driver must treat a repeated key as the same physical run: look
 * for the run it may already have started and return its outcome, never act twice. A failed well
 * fails only its own experiment: the driver reports it in that well's outcome, and throws only
 * when the whole step could not run (then nothing was done, or the retry finds what was done).
 *
 * Nothing here carries the virtual lab's model (IC50s, growth, noise): a driver is told what a
 * real instrument is told, and the virtual lab looks its truth up in the profile it was given.
 */

/** A well of a 96-well plate, e.g. "B7". */
export type WellName = string;

export interface PlateStepRequest {
  /** One per plate step: `<plateId>/seed`, `<plateId>/dose`, `<plateId>/read` … */
  operationKey: string;
  plateId: string;
  /** Attempt number of the calling activity (1-based); fault injection draws per attempt. */
  attempt: number;
}

export interface SeedPlateRequest extends PlateStepRequest {
  /** Imaging needs imaging-grade (black, clear-bottom) plates. */
  plateType: 'assay' | 'imaging';
  /** Logical plate label that stays the same across reruns of one campaign (e.g. "<campaign>/p003"). */
  plateLabel: string;
  wells: SeedWell[];
}

export interface SeedWell {
  well: WellName;
  cellLine: string;
  cellsPerWell: number;
  /** Cell suspension dispensed into the empty well. */
  volumeMicrolitres: number;
}

export interface DosePlateRequest extends PlateStepRequest {
  /** The plate's type as seeded (default "assay"); a driver that loads labware by type needs it. */
  plateType?: SeedPlateRequest['plateType'];
  /** Lab hours the cells attached before dosing (the timer the plate waited). */
  attachmentHours: number;
  wells: DoseWell[];
  /** The stock each compound is drawn from, so the dilution can be worked out. */
  stocks: CompoundStock[];
}

export interface DoseWell {
  well: WellName;
  /** Empty string with dose 0 for a vehicle (DMSO) control. */
  compound: string;
  doseMicromolar: number;
  /** Volume added to the well (compound in medium, or medium with DMSO for a vehicle). */
  volumeMicrolitres: number;
  /**
   * Volume already in the well before this addition (the seeding volume). `doseMicromolar` is the
   * final concentration in `wellVolumeMicrolitres + volumeMicrolitres`, so a driver that prepares
   * the dilution itself (Opentrons) needs it and refuses a dose without it.
   */
  wellVolumeMicrolitres?: number;
}

export interface CompoundStock {
  compound: string;
  stockMicromolar: number;
  lot: string;
}

export interface ReadPlateRequest extends PlateStepRequest {
  assay: Extract<Assay, 'viability' | 'reporter'>;
  wells: WellName[];
  /** Lab hours between dosing and reading. */
  treatmentHours: number;
}

export interface ImagePlateRequest extends PlateStepRequest {
  wells: WellName[];
  treatmentHours: number;
  sitesPerWell: number;
  channels: number;
}

export interface WellFailure {
  /** A type from src/domain/failures (e.g. "Contamination", "UnknownBiology"). */
  type: string;
  message: string;
}

export type WellOutcome<T> =
  { well: WellName; ok: true; value: T } | { well: WellName; ok: false; failure: WellFailure };

export interface SeededWell {
  cellsSeeded: number;
  volumeMicrolitres: number;
}

export interface DosedWell {
  doseMicromolar: number;
  volumeMicrolitres: number;
}

export interface PlateStepReport<T> {
  operationKey: string;
  wells: WellOutcome<T>[];
  /** Lab seconds the run took on the instrument (tips, transfers, reads). */
  instrumentSeconds: number;
  /**
   * When the step ended on the lab's clock (epoch ms), set by the step's activity: the plate's
   * incubation runs from then, not from when orchestration heard of it. Absent from older workers.
   */
  finishedAtMs?: number;
}

export interface LiquidHandlerDriver {
  seedPlate(request: SeedPlateRequest): Promise<PlateStepReport<SeededWell>>;
  dosePlate(request: DosePlateRequest): Promise<PlateStepReport<DosedWell>>;
  close(): Promise<void>;
}

export interface PlateReaderDriver {
  readPlate(request: ReadPlateRequest): Promise<PlateStepReport<RawReadout>>;
  close(): Promise<void>;
}

export interface ImagerDriver {
  imagePlate(request: ImagePlateRequest): Promise<PlateStepReport<RawReadout>>;
  close(): Promise<void>;
}
