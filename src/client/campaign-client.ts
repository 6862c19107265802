import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { CampaignConfig } from '../config/campaign-config';
import { MAX_CAMPAIGN_ID_LENGTH } from '../config/campaign-id';
import type { CampaignResults, CampaignStatus } from '../domain/campaign-status';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { COST_CATEGORIES } from '../domain/costs';
import { temporalSettings } from '../temporal/connection';
import {
  approveBatchUpdate,
  confirmActionUpdate,
  pauseSignal,
  rejectBatchUpdate,
  resultsQuery,
  resumeSignal,
  setBudgetUpdate,
  setPriorityUpdate,
  statusQuery,
  stopSignal,
} from '../temporal/messages';
import type { SetBudgetResult } from '../temporal/messages';
import { ASSAY, CAMPAIGN_ID, CAMPAIGN_STATUS, CELL_LINE, COMPOUND } from '../temporal/search-attributes';
import { taskQueuesFromEnv } from '../temporal/task-queues';
import type { campaignWorkflow } from '../workflows/campaign';

/**
 * Everything a person does to campaigns, as plain async functions over a Temporal client; the
 * CLI, the demo and the tests all go through here. Errors a user can act on are CliError with a
 * message that says what to do.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface CampaignClientOptions {
  client: Client;
  orchestrationTaskQueue?: string;
  labTaskQueue?: string;
}

export async function connectClient(): Promise<Client> {
  const settings = temporalSettings();
  // Codec keys and tracing; a bad keys file is a ConfigError. Loaded only when configured: the
  // key-file parser pulls in YAML and zod, which a plain `cellos status` need not pay for.
  const telemetry = wantsTelemetry(process.env)
    ? await (await import('../telemetry/client')).clientTelemetryOptions()
    : {};
  try {
    const connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: 5_000 });
    return new Client({ connection, namespace: settings.namespace, ...telemetry });
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${settings.address} (${(err as Error).message}). Start the dev server with "npm run server" or set TEMPORAL_ADDRESS.`,
    );
  }
}

/**
 * An unknown namespace (TEMPORAL_NAMESPACE, or a profile's) surfaces from the first call as the
 * server's NamespaceNotFound; this turns it into a message that says what to set, listing the
 * namespaces the server has. Checked only once a call has failed, so a call that works pays no
 * extra round trip. Returns undefined when `err` is not about the namespace.
 */
export async function namespaceNotFound(client: Client, err: unknown): Promise<CliError | undefined> {
  if (!isNamespaceNotFound(err)) return undefined;
  const namespace = client.options.namespace;
  const { address } = temporalSettings();
  let known: string;
  try {
    const names: string[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await client.workflowService.listNamespaces({ pageSize: 100, nextPageToken });
      for (const n of page.namespaces ?? [])
        if (n.namespaceInfo?.name && n.namespaceInfo.name !== 'temporal-system') names.push(n.namespaceInfo.name);
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken && names.length < 1_000);
    known = names.length > 0 ? names.sort().join(', ') : '(none)';
  } catch (listErr) {
    known = `(the server did not list them: ${(listErr as Error).message})`;
  }
  return new CliError(
    `namespace '${namespace}' does not exist on ${address}; known: ${known}. Set TEMPORAL_NAMESPACE to one of them, ` +
      `or create it (temporal operator namespace create --namespace ${namespace}).`,
    2,
  );
}

function isNamespaceNotFound(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e.name === 'NamespaceNotFoundError') return true;
    // A raw gRPC error (calls on workflowService directly): NOT_FOUND naming the namespace.
    if ((e as { code?: unknown }).code === 5 && /namespace\b.*\bnot found/i.test(e.message)) return true;
  }
  return false;
}

/** Any codec or tracing setting (CELLOS_CODEC_*, OTEL_*, CELLOS_TRACES_FILE) means: load the telemetry options. */
export function wantsTelemetry(env: NodeJS.ProcessEnv): boolean {
  return Object.keys(env).some(
    (k) => k.startsWith('CELLOS_CODEC_') || k.startsWith('OTEL_') || k === 'CELLOS_TRACES_FILE',
  );
}

export const CAMPAIGN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function campaignIdFor(config: CampaignConfig, explicitId?: string): string {
  if (explicitId === undefined) return `campaign-${config.name}`;
  // The id a campaign starts under is its fairness key on every lab operation, which Temporal caps at 64.
  if (!CAMPAIGN_ID_PATTERN.test(explicitId) || explicitId.length > MAX_CAMPAIGN_ID_LENGTH) {
    throw new CliError(
      `--id: "${explicitId}" is not a valid campaign id; allowed: 1-${MAX_CAMPAIGN_ID_LENGTH} characters of letters, digits, ".", "_" and "-", starting with a letter or digit (it is the campaign's ${MAX_CAMPAIGN_ID_LENGTH}-character fairness key)`,
      2,
    );
  }
  return explicitId;
}

/** The workflow start options of a campaign, shared by immediate, delayed and scheduled starts. */
export function campaignStartOptions(opts: CampaignClientOptions, config: CampaignConfig, campaignId: string) {
  // The server stores search attributes in clear: when this client encrypts payloads, names stay out of them.
  const searchableNames = opts.client.options.loadedDataConverter.payloadCodecs.length === 0;
  return {
    taskQueue: opts.orchestrationTaskQueue ?? taskQueuesFromEnv().orchestration,
    args: [
      {
        config,
        labTaskQueue: opts.labTaskQueue ?? taskQueuesFromEnv().lab,
        ...(searchableNames ? {} : { searchableNames }),
        outputs: true, // the report at the end, webhooks, the wait alert
        localActivities: true, // the learner's and the report's inputs stay in the worker
      },
    ] as Parameters<typeof campaignWorkflow>,
    staticSummary: `${config.name}: ${config.cellLines.join(', ')} × ${config.compounds.join(', ')}, ${config.assay}, ${config.doseRange.minMicromolar}–${config.doseRange.maxMicromolar} µM, budget $${config.budgetUsd}`,
    priority: { priorityKey: config.priority, fairnessKey: campaignId },
    typedSearchAttributes: [
      { key: CAMPAIGN_ID, value: campaignId },
      { key: CAMPAIGN_STATUS, value: 'running' },
      ...(searchableNames
        ? [
            { key: CELL_LINE, value: config.cellLines },
            { key: COMPOUND, value: config.compounds },
          ]
        : []),
      { key: ASSAY, value: config.assay },
    ],
  };
}

export async function startCampaign(
  opts: CampaignClientOptions,
  config: CampaignConfig,
  campaignId: string,
  startDelayMs?: number,
  { rerun = false }: { rerun?: boolean } = {},
): Promise<WorkflowHandle<typeof campaignWorkflow>> {
  try {
    return await opts.client.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
      workflowId: campaignId,
      ...campaignStartOptions(opts, config, campaignId),
      // A finished campaign's id names its results: starting it again must be asked for (--rerun).
      workflowIdReusePolicy: rerun ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
      // A delayed start is Temporal's own durable timer: nothing has to stay up until then.
      ...(startDelayMs ? { startDelay: startDelayMs } : {}),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const running = await opts.client.workflow
        .getHandle(campaignId)
        .describe()
        .then((d) => d.status.name === 'RUNNING')
        .catch(() => true);
      throw new CliError(
        running
          ? `a campaign with id "${campaignId}" is already running; stop it first or choose another --id`
          : `campaign "${campaignId}" has already run and its results are kept under that id; start it again with --rerun (the new run replaces it in "cellos status"), or choose another --id`,
      );
    }
    throw err;
  }
}

/** Accepts "campaign-demo" or the bare name "demo". */
export async function findCampaign(
  opts: CampaignClientOptions,
  id: string,
): Promise<WorkflowHandle<typeof campaignWorkflow>> {
  return (await findCampaignDescribed(opts, id)).handle;
}

/** findCampaign with the description it read on the way (one round trip fewer for status). */
async function findCampaignDescribed(opts: CampaignClientOptions, id: string) {
  if (!CAMPAIGN_ID_PATTERN.test(id)) throw new CliError(`"${id}" is not a valid campaign id`, 2);
  const candidates = id.startsWith('campaign-') ? [id] : [id, `campaign-${id}`];
  for (const candidate of candidates) {
    const handle = opts.client.workflow.getHandle<typeof campaignWorkflow>(candidate);
    try {
      const description = await handle.describe();
      if (description.type !== 'campaignWorkflow') continue;
      return { handle, description };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) continue;
      throw err;
    }
  }
  throw new CliError(`no campaign with id "${id}"; "cellos list" shows the campaigns`);
}

/** Outcomes per results query: a page stays far below the server's payload limits. */
const RESULTS_PAGE = 400;

/**
 * A campaign's results once it has ended, with every outcome: a large campaign's result leaves
 * its outcomes out (`outcomesOmitted`), and the results query, answered by replay, pages them.
 */
export async function completedResults(handle: WorkflowHandle): Promise<CampaignResults> {
  const results: CampaignResults = await handle.result();
  return results.outcomesOmitted ? resultsByPage(handle) : results;
}

/** Every outcome, a page at a time, with the status of the last page. */
async function resultsByPage(handle: WorkflowHandle): Promise<CampaignResults> {
  const outcomes: CampaignResults['outcomes'] = [];
  for (;;) {
    const page = await handle.query(resultsQuery, { offset: outcomes.length, limit: RESULTS_PAGE });
    outcomes.push(...page.outcomes);
    if (page.outcomes.length === 0 || outcomes.length >= (page.totalOutcomes ?? 0))
      return { status: page.status, outcomes };
  }
}

async function isRunning(handle: WorkflowHandle): Promise<boolean> {
  return (await handle.describe()).status.name === 'RUNNING';
}

async function requireRunning(handle: WorkflowHandle, action: string): Promise<void> {
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') {
    throw new CliError(
      `cannot ${action} campaign "${handle.workflowId}": it has already ended (${description.status.name.toLowerCase()})`,
    );
  }
}

export async function campaignResults(opts: CampaignClientOptions, id: string): Promise<CampaignResults> {
  const handle = await findCampaign(opts, id);
  if (await isRunning(handle)) return resultsByPage(handle);
  const description = await handle.describe();
  if (description.status.name === 'COMPLETED') return completedResults(handle);
  throw new CliError(
    `campaign "${handle.workflowId}" ended as ${description.status.name.toLowerCase()}; it has no results`,
  );
}

export async function campaignStatus(opts: CampaignClientOptions, id: string): Promise<CampaignStatus> {
  return (await campaignView(opts, id)).status;
}

/** A campaign's status with what the Temporal server knows of its run (for `watch` and the worker check). */
export interface CampaignView {
  status: CampaignStatus;
  running: boolean;
  startTime: Date;
  /** When a delayed start is still ahead: the time it starts. */
  startsAt?: Date;
  /** The orchestration task queue the campaign runs on. */
  taskQueue: string;
}

export async function campaignView(opts: CampaignClientOptions, id: string): Promise<CampaignView> {
  const { handle, description: d } = await findCampaignDescribed(opts, id);
  const base = { startTime: d.startTime, taskQueue: d.taskQueue };
  if (d.status.name === 'COMPLETED') return { ...base, running: false, status: (await handle.result()).status };
  if (d.status.name !== 'RUNNING') return { ...base, running: false, status: (await campaignResults(opts, id)).status };
  // A delayed start has run no workflow code yet: nothing answers a query until it starts.
  if (d.executionTime && d.executionTime.getTime() > Date.now() && d.historyLength <= 2) {
    // Its config is its input, the first event of its history (decoded with this client's codec).
    const history = await handle.fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    const [started] = (await decodeArrayFromPayloads(opts.client.options.loadedDataConverter, payloads).catch(
      () => [],
    )) as [{ config?: CampaignConfig }?];
    const known = {
      name: started?.config?.name,
      maxIterations: started?.config?.maxIterations,
      budgetUsd: started?.config?.budgetUsd,
    };
    return {
      ...base,
      running: true,
      startsAt: d.executionTime,
      status: scheduledStatus(handle.workflowId, d.executionTime, known),
    };
  }
  return { ...base, running: true, status: await handle.query(statusQuery) };
}

function scheduledStatus(
  campaignId: string,
  startsAt: Date,
  known: { name?: string; maxIterations?: number; budgetUsd?: number },
): CampaignStatus {
  return {
    campaignId,
    name: known.name ?? campaignId.replace(/^campaign-/, ''),
    state: 'scheduled',
    detail: `starts at ${startsAt.toISOString()} (in ${formatDuration(startsAt.getTime() - Date.now())})`,
    iteration: 0,
    maxIterations: known.maxIterations ?? 0,
    experiments: { done: 0, running: 0, failed: 0, controls: 0 },
    spentUsd: 0,
    spentByCategory: Object.fromEntries(COST_CATEGORIES.map((c) => [c, 0])) as CampaignStatus['spentByCategory'],
    committedUsd: 0,
    budgetUsd: known.budgetUsd ?? 0,
    paused: false,
    stopRequested: false,
    estimates: [],
    runs: 0,
    waitingFor: [],
    priorityKey: 3,
    rejections: [],
  };
}

/** "3 h 20 min", "45 s": a duration as a person reads it. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 90) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export async function pauseCampaign(opts: CampaignClientOptions, id: string, reason?: string): Promise<CampaignStatus> {
  const handle = await findCampaign(opts, id);
  await requireRunning(handle, 'pause');
  await handle.signal(pauseSignal, reason ? { reason } : {});
  return handle.query(statusQuery);
}

export async function resumeCampaign(opts: CampaignClientOptions, id: string): Promise<CampaignStatus> {
  const handle = await findCampaign(opts, id);
  await requireRunning(handle, 'resume');
  await handle.signal(resumeSignal);
  return handle.query(statusQuery);
}

export async function stopCampaign(opts: CampaignClientOptions, id: string, reason?: string): Promise<CampaignStatus> {
  const handle = await findCampaign(opts, id);
  await requireRunning(handle, 'stop');
  await handle.signal(stopSignal, reason ? { reason } : {});
  return handle.query(statusQuery);
}

export async function setCampaignBudget(
  opts: CampaignClientOptions,
  id: string,
  budgetUsd: number,
): Promise<SetBudgetResult> {
  const handle = await findCampaign(opts, id);
  await requireRunning(handle, 'change the budget of');
  try {
    return await handle.executeUpdate(setBudgetUpdate, { args: [{ budgetUsd }] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new CliError(`budget refused: ${err.cause?.message ?? err.message}`);
    }
    throw err;
  }
}

async function personUpdate<R>(run: () => Promise<R>, what: string): Promise<R> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new CliError(`${what} refused: ${err.cause?.message ?? err.message}`);
    throw err;
  }
}

export async function approveBatch(opts: CampaignClientOptions, id: string): Promise<{ approvedWells: number }> {
  const handle = await findCampaign(opts, id);
  await requireRunning(handle, 'approve a batch of');
  return personUpdate(() => handle.executeUpdate(approveBatchUpdate, { args: [{}] }), 'approval');
}

export async function rejectBatch(
  opts: CampaignClientOptions,
  id: string,
  reason: string,
): Promise<{ rejectedWells: number }> {
  const handle = await findCampaign(opts, id);
  await requireRunning(handle, 'reject a batch of');
  return personUpdate(() => handle.executeUpdate(rejectBatchUpdate, { args: [{ reason }] }), 'rejection');
}

export async function confirmAction(opts: CampaignClientOptions, id: string): Promise<{ confirmed: string }> {
  const handle = await findCampaign(opts, id);
  await requireRunning(handle, 'confirm a step of');
  return personUpdate(() => handle.executeUpdate(confirmActionUpdate, { args: [{}] }), 'confirmation');
}

export async function setCampaignPriority(
  opts: CampaignClientOptions,
  id: string,
  priorityKey: number,
): Promise<{ previousPriorityKey: number; priorityKey: number }> {
  const handle = await findCampaign(opts, id);
  await requireRunning(handle, 'change the priority of');
  return personUpdate(() => handle.executeUpdate(setPriorityUpdate, { args: [{ priorityKey }] }), 'priority change');
}

export interface CampaignListing {
  campaignId: string;
  state: string;
  temporalStatus: string;
  startTime: Date;
  closeTime?: Date;
}

export async function listCampaigns(opts: CampaignClientOptions, limit = 50): Promise<CampaignListing[]> {
  const out: CampaignListing[] = [];
  for await (const wf of opts.client.workflow.list({
    query: `WorkflowType = 'campaignWorkflow' AND ExecutionStatus != 'ContinuedAsNew'`,
    pageSize: limit,
  })) {
    out.push({
      campaignId: wf.workflowId,
      state: wf.typedSearchAttributes.get(CAMPAIGN_STATUS) ?? wf.status.name.toLowerCase(),
      temporalStatus: wf.status.name,
      startTime: wf.startTime,
      closeTime: wf.closeTime,
    });
    if (out.length >= limit) break;
  }
  return out;
}
