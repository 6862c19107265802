import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The lab's own Prometheus series, recorded by the lab worker as activities finish (see
 * lab-metrics-interceptor.ts), never by workflow code. Labels carry no cell-line or compound
 * names: with payload encryption on, those must not reach the metrics store in clear either.
 */
export class LabMetrics {
  readonly wells: Counter<'outcome' | 'assay'>;
  readonly steps: Counter<'step' | 'outcome'>;
  readonly spendUsd: Counter<'category' | 'campaign'>;
  readonly instrumentBusySeconds: Counter<'instrument'>;
  readonly operationSeconds: Histogram<'instrument' | 'step'>;
  readonly stockShortages: Counter<never>;
  readonly waitingExperiments: Gauge<'kind'>;
  readonly waitSeconds: Histogram<'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.wells = new Counter({
      name: 'cellos_lab_wells_total',
      help: 'Wells finished by the lab: done (read) or failed (a permanent fault in seed, dose or read)',
      labelNames: ['outcome', 'assay'],
      registers,
    });
    this.steps = new Counter({
      name: 'cellos_lab_steps_total',
      help: 'Lab step attempts by outcome: ok, failed (permanent), retried (transient fault), waiting (offline or out of stock)',
      labelNames: ['step', 'outcome'],
      registers,
    });
    this.spendUsd = new Counter({
      name: 'cellos_lab_spend_usd_total',
      help: 'Money spent by completed lab steps, by cost category and campaign (the prices the budget is charged with)',
      labelNames: ['category', 'campaign'],
      registers,
    });
    this.instrumentBusySeconds = new Counter({
      name: 'cellos_lab_instrument_busy_seconds_total',
      help: 'Real seconds instruments spent on operations (attempts that ran, successful or not)',
      labelNames: ['instrument'],
      registers,
    });
    this.operationSeconds = new Histogram({
      name: 'cellos_lab_operation_seconds',
      help: 'Real duration of successful instrument operations',
      labelNames: ['instrument', 'step'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.stockShortages = new Counter({
      name: 'cellos_lab_stock_shortages_total',
      help: 'Lab step attempts refused because an item was out of stock (the experiment waits and retries)',
      registers,
    });
    this.waitingExperiments = new Gauge({
      name: 'cellos_lab_waiting_experiments',
      help: 'Experiments now waiting for stock or for an offline instrument, as seen by this worker',
      labelNames: ['kind'],
      registers,
    });
    this.waitSeconds = new Histogram({
      name: 'cellos_lab_wait_seconds',
      help: 'How long an experiment waited for stock or an instrument before its step ran',
      labelNames: ['kind'],
      buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    // Series that exist from the start, so a dashboard shows zeros rather than gaps.
    for (const kind of ['stock', 'instrument']) this.waitingExperiments.set({ kind }, 0);
  }
}
