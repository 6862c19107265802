import { activityInfo, ApplicationFailure, heartbeat } from '@temporalio/activity';
import type { DoseReceipt, LabDriver, PairResponseTruth, SeedReceipt, SeedRequest } from '../lab/driver';
import { INSTRUMENT_OFFLINE, LabFault } from '../lab/driver';
import type { Assay, RawReadout, WellLocation } from '../domain/types';

/**
 * Lab activities: the three physical steps of an experiment, on the lab task queue. Each takes
 * one input object and derives its idempotency key from the workflow run and activity ids, so a
 * retried or replayed activity hands the driver the same key and the well is never seeded,
 * dosed or read twice. Permanent hardware faults become non-retryable failures typed with the
 * fault (e.g. "Contamination"); transient ones are rethrown plainly for the retry policy.
 */
export interface SeedWellInput {
  location: WellLocation;
  cellLine: string;
  cellsPerWell: number;
  volumeMicrolitres: number;
  simulation: SeedRequest['simulation'];
}

export interface AddCompoundInput {
  location: WellLocation;
  compound: string;
  doseMicromolar: number;
  volumeMicrolitres: number;
  attachmentHours: number;
  simulation: { response?: PairResponseTruth };
}

export interface MeasureWellInput {
  location: WellLocation;
  assay: Assay;
  treatmentHours: number;
}

export function createLabActivities(driver: LabDriver) {
  return {
    async seedWell(input: SeedWellInput): Promise<SeedReceipt> {
      return withHardware(() =>
        driver.seed({ ...input, operationKey: operationKey(), attempt: activityInfo().attempt }),
      );
    },
    async addCompound(input: AddCompoundInput): Promise<DoseReceipt> {
      return withHardware(() =>
        driver.dose({ ...input, operationKey: operationKey(), attempt: activityInfo().attempt }),
      );
    },
    async measureWell(input: MeasureWellInput): Promise<RawReadout> {
      return withHardware(() =>
        driver.read({ ...input, operationKey: operationKey(), attempt: activityInfo().attempt }),
      );
    },
  };
}

export type LabActivities = ReturnType<typeof createLabActivities>;

/** `<workflowId>/<runId>/<activityId>:<activityType>`: stable across retries, replays and worker crashes. */
export function operationKey(): string {
  const info = activityInfo();
  const execution = info.workflowExecution;
  if (!execution)
    throw ApplicationFailure.nonRetryable('lab activities must be called from a workflow', 'InvalidOperation');
  return `${execution.workflowId}/${execution.runId}/${info.activityId}:${info.activityType}`;
}

/** Heartbeat while the instrument works (a hung instrument then trips the heartbeat timeout). */
async function withHardware<T>(operation: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => heartbeat(), 1_000);
  try {
    heartbeat();
    return await operation();
  } catch (err) {
    if (err instanceof LabFault) {
      if (err.type === INSTRUMENT_OFFLINE) {
        // Not retried here: the workflow waits on a timer and reports the instrument it waits for.
        throw ApplicationFailure.create({
          message: err.message,
          type: err.type,
          nonRetryable: true,
          details: [{ instrument: err.instrument ?? 'instrument' }],
        });
      }
      throw err.permanent
        ? ApplicationFailure.nonRetryable(err.message, err.type)
        : ApplicationFailure.retryable(err.message, err.type);
    }
    throw err;
  } finally {
    clearInterval(timer);
  }
}
