import { ApplicationFailure } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  Next,
} from '@temporalio/worker';
import type { DosePlateInput, ReadPlateInput, SeedPlateInput } from '../activities/lab-activities';
import type { PlateStepReport } from '../instruments/plate-driver';
import { doseCostLines, measureCostLines, seedCostLines, type CompoundPricing, type CostLine } from '../domain/costs';
import { OUT_OF_STOCK } from '../inventory/consumption';
import { INSTRUMENT_OFFLINE } from '../lab/driver';
import { OPERATION_INSTRUMENTS } from '../temporal/task-queues';
import type { LabMetrics } from './lab-metrics';

/**
 * Records the lab metrics around every lab activity, in the worker: the activities themselves
 * stay as they are, and workflow code (which replays) records nothing. What each step spent comes
 * from the same price lines the campaign's budget is charged with.
 *
 * Counts are per completed activity execution: an attempt whose completion was lost (worker killed
 * after the instrument finished) is counted again when it is retried.
 */
type Pricing = (compound: string) => CompoundPricing | undefined;
/** What each plate step spent: the price lines of each well it did. */
const STEPS: Record<string, { step: string; cost: (input: never, done: Set<string>, pricing: Pricing) => CostLine[] }> =
  {
    seedPlate: {
      step: 'seed',
      cost: (input: SeedPlateInput, done) =>
        input.wells.filter((w) => done.has(w.well)).flatMap(() => seedCostLines(input.assay)),
    },
    dosePlate: {
      step: 'dose',
      cost: (input: DosePlateInput, done, pricing) =>
        input.wells
          .filter((w) => done.has(w.well))
          .flatMap((w) => doseCostLines(w.doseMicromolar, w.compound === '' ? undefined : pricing(w.compound))),
    },
    readPlate: {
      step: 'measure',
      cost: (input: ReadPlateInput, done) =>
        input.wells.filter((w) => done.has(w.well)).flatMap(() => measureCostLines(input.assay)),
    },
  };

export function labMetricsInterceptor(
  metrics: LabMetrics,
  pricing: Pricing = () => undefined,
): ActivityInterceptorsFactory {
  // Plates waiting for stock or an instrument, by "<workflowId>/<activity type>", with when the wait began and how many wells wait.
  const waiting = new Map<string, { kind: 'stock' | 'instrument'; sinceMs: number; wells: number }>();
  const setWaiting = (key: string, kind: 'stock' | 'instrument' | undefined, wells = 1) => {
    const previous = waiting.get(key);
    if (previous?.kind === kind) return;
    if (previous) {
      waiting.delete(key);
      metrics.waitingExperiments.dec({ kind: previous.kind }, previous.wells);
      metrics.waitSeconds.observe({ kind: previous.kind }, (Date.now() - previous.sinceMs) / 1000);
    }
    if (kind) {
      waiting.set(key, { kind, sinceMs: Date.now(), wells });
      metrics.waitingExperiments.inc({ kind }, wells);
    }
  };

  return (ctx: Context) => ({ inbound: new LabMetricsInbound(ctx, metrics, setWaiting, pricing) });
}

class LabMetricsInbound implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly metrics: LabMetrics,
    private readonly setWaiting: (key: string, kind: 'stock' | 'instrument' | undefined, wells?: number) => void,
    private readonly pricing: Pricing,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = this.ctx.info;
    const spec = STEPS[info.activityType];
    if (!spec) return next(input);
    const args = input.args[0] as SeedPlateInput | DosePlateInput | ReadPlateInput;
    const instrument = OPERATION_INSTRUMENTS.find((i) => info.taskQueue.endsWith(`-${i}`)) ?? 'unknown';
    const waitKey = `${info.workflowExecution?.workflowId ?? info.activityId}/${info.activityType}`;
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = (await next(input)) as PlateStepReport<unknown>;
      const elapsed = seconds();
      const done = new Set(result.wells.filter((w) => w.ok).map((w) => w.well));
      this.setWaiting(waitKey, undefined);
      this.metrics.steps.inc({ step: spec.step, outcome: 'ok' });
      this.metrics.instrumentBusySeconds.inc({ instrument }, elapsed);
      this.metrics.operationSeconds.observe({ instrument, step: spec.step }, elapsed);
      for (const line of spec.cost(args as never, done, this.pricing)) {
        if (line.usd > 0) this.metrics.spendUsd.inc({ category: line.category, campaign: args.campaignId }, line.usd);
      }
      const failed = result.wells.length - done.size;
      if (spec.step === 'measure' && done.size > 0)
        this.metrics.wells.inc({ outcome: 'done', assay: args.assay }, done.size);
      if (failed > 0) this.metrics.wells.inc({ outcome: 'failed', assay: args.assay }, failed);
      return result;
    } catch (err) {
      const type = err instanceof ApplicationFailure ? err.type : undefined;
      if (type === OUT_OF_STOCK || type === INSTRUMENT_OFFLINE) {
        // Nothing ran: the workflow waits on a timer and tries the step again.
        if (type === OUT_OF_STOCK) this.metrics.stockShortages.inc();
        this.setWaiting(waitKey, type === OUT_OF_STOCK ? 'stock' : 'instrument', args.wells.length);
        this.metrics.steps.inc({ step: spec.step, outcome: 'waiting' });
      } else if (type === 'InstrumentBusy') {
        this.metrics.steps.inc({ step: spec.step, outcome: 'retried' });
      } else {
        this.metrics.instrumentBusySeconds.inc({ instrument }, seconds());
        const permanent = err instanceof ApplicationFailure && err.nonRetryable;
        this.metrics.steps.inc({ step: spec.step, outcome: permanent ? 'failed' : 'retried' });
        if (permanent) {
          this.setWaiting(waitKey, undefined);
          this.metrics.wells.inc({ outcome: 'failed', assay: args.assay }, args.wells.length);
        }
      }
      throw err;
    }
  }
}
