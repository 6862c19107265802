import { activityInfo, ApplicationFailure, heartbeat, sleep } from '@temporalio/activity';
import type { LabConfig } from '../config/lab-config';
import type { Assay, RawReadout, WellLocation } from '../domain/types';
import type { DoseReceipt, LabDriver, SeedReceipt } from '../lab/driver';
import { INSTRUMENT_OFFLINE, LabFault } from '../lab/driver';
import { INSTRUMENT_BUSY } from '../domain/failures';
import { InstrumentBusyError, type InstrumentGuard } from '../instruments/instrument-guard';
import type { OperationInstrument } from '../temporal/task-queues';
import type { CompoundPricing } from '../domain/costs';
import { OUT_OF_STOCK, type StepUse } from '../inventory/consumption';
import type { InventoryStore } from '../inventory/inventory-store';
import { consumptionKey } from './inventory-activities';

/**
 * Lab activities: the three physical steps of an experiment, each on the task queue of the
 * instrument that does it (liquid handler: seed and dose; plate reader or imager: measure).
 *
 * Each takes one input object and derives its idempotency key from the workflow run and activity
 * ids, so a retried or replayed activity hands the driver the same key and the well is never
 * seeded, dosed or read twice. While it works it holds a lease on its instrument (capacity is
 * never exceeded, whatever the number of workers) and heartbeats. Permanent hardware faults
 * become non-retryable failures typed with the fault (e.g. "Contamination"); transient ones are
 * retried by policy; an offline instrument is handed back to the workflow, which waits on a timer.
 */
export interface TimedInput {
  /** The campaign's clock, so simulated instrument time is compressed like incubations. */
  secondsPerLabHour: number;
  /** The campaign the consumption is charged to (the inventory ledger). */
  campaignId: string;
}

export interface SeedWellInput extends TimedInput {
  location: WellLocation;
  /** Imaging needs imaging-grade plates. */
  assay: Assay;
  cellLine: string;
  cellsPerWell: number;
  volumeMicrolitres: number;
  /** The plate's logical label (stable across reruns of the campaign), as on its barcode. */
  plateLabel?: string;
}

export interface AddCompoundInput extends TimedInput {
  location: WellLocation;
  compound: string;
  doseMicromolar: number;
  volumeMicrolitres: number;
  attachmentHours: number;
}

export interface MeasureWellInput extends TimedInput {
  location: WellLocation;
  assay: Assay;
  treatmentHours: number;
}

export interface LabActivityDependencies {
  driver: LabDriver;
  guard: InstrumentGuard;
  labConfig: LabConfig;
  inventory: InventoryStore;
  /** The lab's catalogue price of a compound (what a dose of it is charged at). */
  pricing: (compound: string) => CompoundPricing;
}

/** A lease outlives a killed worker by at most this long. */
export const LEASE_TTL_MS = 10_000;

export function createLabActivities({ driver, guard, labConfig, inventory, pricing }: LabActivityDependencies) {
  const onInstrument = <T>(
    instrument: OperationInstrument,
    labSeconds: number,
    input: TimedInput,
    use: StepUse,
    operation: (key: string) => Promise<T>,
  ) =>
    withInstrument(
      {
        guard,
        driver,
        instrument,
        capacity: capacityOf(labConfig, instrument),
        labSeconds,
        input,
        // Stock is drawn once per physical step, before the instrument is taken: a shortage never holds it.
        consume: () =>
          inventory.consume({
            operationKey: consumptionKey(use.step),
            campaignId: input.campaignId,
            experimentWorkflowId: activityInfo().workflowExecution?.workflowId ?? '',
            use,
          }),
      },
      operation,
    );
  return {
    async seedWell(input: SeedWellInput): Promise<SeedReceipt> {
      const { assay, ...request } = withoutClock(input);
      const use: StepUse = {
        step: 'seed',
        location: input.location,
        assay,
        volumeMicrolitres: input.volumeMicrolitres,
      };
      return onInstrument('liquid-handler', labConfig.liquidHandler.secondsPerTransfer, input, use, (operationKey) =>
        driver.seed({ ...request, operationKey, attempt: activityInfo().attempt }),
      );
    },
    async addCompound(input: AddCompoundInput): Promise<DoseReceipt> {
      const request = withoutClock(input);
      const use: StepUse = {
        step: 'dose',
        location: input.location,
        compound: input.compound,
        doseMicromolar: input.doseMicromolar,
        volumeMicrolitres: input.volumeMicrolitres,
        compoundPricing: input.compound === '' ? undefined : pricing(input.compound),
      };
      return onInstrument('liquid-handler', labConfig.liquidHandler.secondsPerTransfer, input, use, (operationKey) =>
        driver.dose({ ...request, operationKey, attempt: activityInfo().attempt }),
      );
    },
    async measureWell(input: MeasureWellInput): Promise<RawReadout> {
      const instrument = input.assay === 'imaging' ? 'imager' : 'plate-reader';
      const seconds =
        input.assay === 'imaging' ? labConfig.imager.secondsPerWell : labConfig.plateReader.secondsPerWell;
      const use: StepUse = { step: 'measure', location: input.location, assay: input.assay };
      return onInstrument(instrument, seconds, input, use, (operationKey) =>
        driver.read({ ...withoutClock(input), operationKey, attempt: activityInfo().attempt }),
      );
    },
  };
}

export type LabActivities = ReturnType<typeof createLabActivities>;

function capacityOf(config: LabConfig, instrument: OperationInstrument): number {
  if (instrument === 'liquid-handler') return config.liquidHandler.capacity;
  if (instrument === 'imager') return config.imager.capacity;
  return config.plateReader.capacity;
}

function withoutClock<T extends TimedInput>(input: T): Omit<T, 'secondsPerLabHour' | 'campaignId'> {
  const { secondsPerLabHour: _clock, campaignId: _campaign, ...rest } = input;
  return rest;
}

/** `<workflowId>/<runId>/<activityId>:<activityType>`: stable across retries, replays and worker crashes. */
export function operationKey(): string {
  const info = activityInfo();
  const execution = info.workflowExecution;
  if (!execution)
    throw ApplicationFailure.nonRetryable('lab activities must be called from a workflow', 'InvalidOperation');
  return `${execution.workflowId}/${execution.runId}/${info.activityId}:${info.activityType}`;
}

/**
 * Holds the instrument's lease while the operation runs for its (compressed) duration, renewing
 * the lease with every heartbeat; translates hardware faults into Temporal failures.
 */
async function withInstrument<T>(
  options: {
    guard: InstrumentGuard;
    instrument: OperationInstrument;
    capacity: number;
    labSeconds: number;
    input: TimedInput;
    driver: LabDriver;
    consume: () => unknown;
  },
  operation: (key: string) => Promise<T>,
): Promise<T> {
  const { guard, instrument } = options;
  const key = operationKey();
  const renew = () => {
    // A hung instrument gets no heartbeat, so the heartbeat timeout fires and the attempt is retried.
    if (options.driver.responsive?.({ operationKey: key, attempt: activityInfo().attempt }) === false) return;
    heartbeat();
    guard.renew(instrument, key, LEASE_TTL_MS);
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    options.consume();
    try {
      guard.acquire(instrument, key, options.capacity, LEASE_TTL_MS);
    } catch (err) {
      if (err instanceof InstrumentBusyError) throw ApplicationFailure.retryable(err.message, INSTRUMENT_BUSY);
      throw err;
    }
    timer = setInterval(renew, 1_000);
    heartbeat();
    const workMs = (options.labSeconds / 3600) * options.input.secondsPerLabHour * 1000;
    if (workMs >= 1) await sleep(workMs);
    const result = await operation(key);
    guard.release(instrument, key);
    return result;
  } catch (err) {
    guard.release(instrument, key);
    if (err instanceof LabFault) {
      if (err.type === INSTRUMENT_OFFLINE || err.type === OUT_OF_STOCK) {
        // Not retried here: the workflow waits on a timer and reports what it waits for.
        throw ApplicationFailure.create({
          message: err.message,
          type: err.type,
          nonRetryable: true,
          details: [
            { instrument: err.instrument ?? instrument, kind: err.type === OUT_OF_STOCK ? 'stock' : 'instrument' },
          ],
        });
      }
      throw err.permanent
        ? ApplicationFailure.nonRetryable(err.message, err.type)
        : ApplicationFailure.retryable(err.message, err.type);
    }
    throw err;
  } finally {
    if (timer) clearInterval(timer);
  }
}
