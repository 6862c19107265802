import { type Client, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { campaignStartOptions, completedResults, startCampaign } from '../../src/client/campaign-client';
import { resolveCampaignConfig } from '../../src/config/campaign-config';
import { builtinLabConfig } from '../../src/config/lab-config';
import { builtinLabProfile } from '../../src/config/lab-profile';
import { stockForProfile } from '../../src/inventory/default-stock';
import { incubatorWorkflowId } from '../../src/temporal/task-queues';
import { runWorkers } from '../../src/workers/lab';
import { openBenchLab } from '../bench-lab';

/**
 * `npm run bench:history`: one real campaign of about 10,000 wells on its own dev server, then
 * the size of every payload in its histories (every run of its continue-as-new chain), against
 * the 256 KB target, and each run's history against Temporal's limits (51,200 events, 50 MB).
 *
 * A baseline runs the same campaign the way campaigns ran before (the learner and the report as
 * remote activities, whose inputs carry every well) for `--baseline-wells` wells, and the bench
 * prints how its largest payload compares. `--wells N` and `--baseline-wells N` (0 skips it)
 * change the sizes; `--seconds-per-lab-hour` the clock.
 */
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const WELLS = arg('wells', 10_000);
const BASELINE_WELLS = arg('baseline-wells', 2_000);
const SECONDS_PER_LAB_HOUR = arg('seconds-per-lab-hour', 0.001);
const TARGET_PAYLOAD_BYTES = 256 * 1024;
const LIMITS = { events: 51_200, bytes: 50 * 1024 * 1024 };

// 5 lines × 6 compounds over eight decades of dose (33 grid doses each), 8 replicates, and 8
// vehicle wells per line a plate uses: 7 doses × 8 + up to 40 controls a plate, 7,920 treatment wells in all.
const LINES = ['HEK293T', 'HeLa', 'Jurkat', 'U2OS', 'CHO'];
const COMPOUNDS = ['staurosporine', 'tunicamycin', 'doxorubicin', 'cisplatin', 'paclitaxel', 'H2O2'];

interface HistoryFigures {
  runs: number;
  events: number;
  largestRunEvents: number;
  largestRunBytes: number;
  largestPayloadBytes: number;
  largestPayloadAt: string;
}

/** Every payload's size (data plus metadata) in one event, with where it sits. */
function payloadSizes(value: unknown, path: string, out: { bytes: number; at: string }[]): void {
  if (!value || typeof value !== 'object') return;
  if (value instanceof Uint8Array) return;
  const v = value as Record<string, unknown>;
  if (v.data instanceof Uint8Array && (v.metadata === undefined || typeof v.metadata === 'object')) {
    const meta = Object.values((v.metadata as Record<string, Uint8Array> | undefined) ?? {}).reduce(
      (s, m) => s + (m?.length ?? 0),
      0,
    );
    out.push({ bytes: v.data.length + meta, at: path });
    return;
  }
  for (const [k, child] of Object.entries(v)) payloadSizes(child, `${path}.${k}`, out);
}

async function measure(client: Client, workflowId: string): Promise<HistoryFigures> {
  const runIds: string[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runIds.push(w.runId);
  const figures: HistoryFigures = {
    runs: runIds.length,
    events: 0,
    largestRunEvents: 0,
    largestRunBytes: 0,
    largestPayloadBytes: 0,
    largestPayloadAt: '',
  };
  for (const runId of runIds) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const bytes = proto.temporal.api.history.v1.History.encode(history).finish().length;
    figures.events += events.length;
    figures.largestRunEvents = Math.max(figures.largestRunEvents, events.length);
    figures.largestRunBytes = Math.max(figures.largestRunBytes, bytes);
    for (const event of events) {
      const sizes: { bytes: number; at: string }[] = [];
      const type = proto.temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'event';
      payloadSizes(event, type.replace(/^EVENT_TYPE_/, ''), sizes);
      for (const s of sizes)
        if (s.bytes > figures.largestPayloadBytes) {
          figures.largestPayloadBytes = s.bytes;
          figures.largestPayloadAt = s.at;
        }
    }
  }
  return figures;
}

async function main(): Promise<void> {
  const labConfig = builtinLabConfig();
  const profile = builtinLabProfile();
  const { client, inventory, queues, workers, close } = await openBenchLab({ name: 'bench-history', labConfig });
  // Enough of everything for the whole campaign: the benchmark measures history, not stock.
  for (const item of stockForProfile(profile)) inventory.restock({ item: item.item, amount: 5_000_000 });

  const config = (name: string, wells: number) =>
    resolveCampaignConfig(
      {
        name,
        cellLines: LINES,
        compounds: COMPOUNDS,
        doseRange: { minMicromolar: 0.000001, maxMicromolar: 100 },
        assay: 'viability',
        proposer: 'space-filling',
        batchSize: 7,
        replicates: 8,
        controlsPerLine: 8,
        maxWellsPerPair: 10_000,
        // A plate holds 56 treatment wells and 8 vehicle wells per line it uses: 70-96 wells.
        maxIterations: Math.ceil(wells / 70),
        budgetUsd: 1_000_000,
        seed: 11,
        secondsPerLabHour: SECONDS_PER_LAB_HOUR,
      },
      name,
    );

  const runOne = async (name: string, wells: number, baseline: boolean) => {
    const c = config(name, wells);
    const id = `campaign-${name}`;
    const t0 = Date.now();
    const handle: WorkflowHandle = baseline
      ? await client.workflow.start('campaignWorkflow', {
          ...campaignStartOptions({ client, ...queues }, c, id),
          workflowId: id,
          // The input as campaigns were started before local activities: no `localActivities`.
          args: [{ ...campaignStartOptions({ client, ...queues }, c, id).args[0], localActivities: undefined }],
        })
      : await startCampaign({ client, ...queues }, c, id);
    const result = await completedResults(handle).then(
      (r) => ({ ok: true as const, r }),
      (err: unknown) => ({ ok: false as const, err: err instanceof Error ? err.message : String(err) }),
    );
    const seconds = (Date.now() - t0) / 1000;
    const figures = await measure(client, id);
    const status = result.ok ? result.r.status : undefined;
    const done = status ? status.experiments.done + status.experiments.failed : 0;
    console.log(
      `${baseline ? 'baseline' : 'campaign'} ${name}: ${result.ok ? `${status!.state}, ${done} wells` : `FAILED: ${result.err}`} in ${seconds.toFixed(0)} s; ` +
        `${figures.runs} run(s), ${figures.events} events; largest run ${figures.largestRunEvents} events / ${(figures.largestRunBytes / 1024).toFixed(0)} KB; ` +
        `largest payload ${(figures.largestPayloadBytes / 1024).toFixed(1)} KB (${figures.largestPayloadAt})`,
    );
    return { figures, wells: done, ok: result.ok };
  };

  const outcome = await runWorkers(
    workers,
    (async () => {
      const main = await runOne('history-10k', WELLS, false);
      const baseline = BASELINE_WELLS > 0 ? await runOne('history-baseline', BASELINE_WELLS, true) : undefined;
      await client.workflow.getHandle(incubatorWorkflowId(queues.labTaskQueue)).terminate('benchmark done');
      return { main, baseline };
    })(),
  );
  const { main: m, baseline } = outcome!;
  const pass =
    m.ok &&
    m.wells >= WELLS &&
    m.figures.largestPayloadBytes < TARGET_PAYLOAD_BYTES &&
    m.figures.largestRunEvents < LIMITS.events / 4 &&
    m.figures.largestRunBytes < LIMITS.bytes / 4;
  console.log(
    `largest payload ${(m.figures.largestPayloadBytes / 1024).toFixed(1)} KB at ${m.wells} wells (target < 256 KB); ` +
      `largest run ${m.figures.largestRunEvents} of ${LIMITS.events} events, ${(m.figures.largestRunBytes / 1024 / 1024).toFixed(1)} of 50 MB`,
  );
  if (baseline)
    console.log(
      `baseline at ${baseline.wells} wells: largest payload ${(baseline.figures.largestPayloadBytes / 1024).toFixed(1)} KB, ` +
        `${(baseline.figures.largestPayloadBytes / Math.max(1, m.figures.largestPayloadBytes)).toFixed(1)}× this campaign's at ${m.wells} wells`,
    );
  console.log(pass ? 'PASS' : 'FAIL');
  await close();
  process.exit(pass ? 0 : 1);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
