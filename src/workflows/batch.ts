import { ApplicationFailure, ChildWorkflowFailure, executeChild, patched, startChild } from '@temporalio/workflow';
import type { ExperimentOutcome, Proposal } from '../domain/types';
import { INSTRUMENT_FAULT } from '../domain/failures';
import { wellForIndex } from '../lab/plate';
import { ASSAY, CAMPAIGN_ID, CELL_LINE, COMPOUND } from '../temporal/search-attributes';
import type { CampaignStateModel } from './campaign-state';
import { experimentWorkflow, type ExperimentFailureDetails, type ExperimentInput } from './experiment';
import { plateWorkflow, type PlateInput } from './plate';
import { plateEndedSignal } from '../temporal/messages';
import { incubatorWorkflowId } from '../temporal/task-queues';

/**
 * One batch on one plate: each proposal runs as its own child experiment workflow (its own
 * history, Web UI page and failure), all in parallel. Results are matched to proposals by id,
 * whatever order they end in. What a child is told is only what a lab must be told (line,
 * compound, dose, assay, protocol, plate, priority) and the catalogue price it is charged at.
 */
export interface BatchContext {
  state: CampaignStateModel;
  labTaskQueue: string;
  iteration: number;
  plateId: string;
  /** false keeps line and compound names out of search attributes (they are in clear there). */
  searchableNames?: boolean;
}

export const CELLS_PER_WELL = { imaging: 5_000, default: 10_000 } as const;

/** `patched()` id: the plate child is started before its wells' experiments (older runs: after). */
export const PLATE_STARTS_FIRST = 'plate-starts-first';
/** Temporal's lowest priority (keys 1–5): the experiments' workflow tasks, which nothing waits on. */
const BOOKKEEPING_PRIORITY_KEY = 5;

/**
 * `plateDone` runs as soon as the plate workflow ends (its plate is out of the incubator), before
 * the campaign has collected every well's outcome: the campaign frees the incubator slot there.
 */
export async function runBatch(
  context: BatchContext,
  batch: Proposal[],
  plateDone: () => Promise<void> = async () => undefined,
): Promise<void> {
  const { state } = context;
  const plateWorkflowId = `${state.campaignId}/plate-p${String(context.iteration).padStart(3, '0')}`;
  const wells = batch.map((proposal, index) => ({
    proposal,
    input: experimentInput(context, proposal, index),
    workflowId: `${state.campaignId}/${proposal.proposalId}`,
  }));
  for (const { proposal, input, workflowId } of wells) {
    state.running.set(proposal.proposalId, {
      proposal,
      location: input.location,
      workflowId,
      committedUsd: state.costOf(proposal),
    });
  }
  const startWells = () =>
    wells.map(({ proposal, input, workflowId }) => {
      const handle = startChild(experimentWorkflow, {
        workflowId,
        args: [{ ...input, plateWorkflowId }],
        staticSummary: describeProposal(proposal),
        typedSearchAttributes: searchAttributes(context, proposal),
        // A well's record holds no instrument and no slot: its workflow tasks (hearing the plate's
        // news) yield to those that move plates (the plate's, the campaign's, the incubator's).
        priority: { priorityKey: BOOKKEEPING_PRIORITY_KEY, fairnessKey: state.campaignId },
      });
      return { proposal, input, workflowId, handle };
    });
  // Every well's record and the plate that runs them start in one workflow task. The plate starts
  // first: the server starts children in the order they were asked for, so a plate asked for after
  // its 36 wells began its seeding only once all of them had started (about half a second of
  // incubator slot on a compressed clock). A well's record still exists long before the plate's
  // first news arrives (after seeding), and the plate retries the rare signal that comes too soon.
  const plateFirst = patched(PLATE_STARTS_FIRST);
  let starting: ReturnType<typeof startWells> = plateFirst ? [] : startWells();
  state.activePlateWorkflowId = plateWorkflowId;
  const plate = executeChild(plateWorkflow, {
    workflowId: plateWorkflowId,
    args: [plateInput(context, wells)],
    staticSummary: `plate ${context.plateId.slice(context.plateId.lastIndexOf('-') + 1)}: ${batch.length} wells, iteration ${context.iteration}`,
    typedSearchAttributes: [{ key: CAMPAIGN_ID, value: state.campaignId }],
  })
    .then(() => 'the plate workflow completed')
    .catch((err: unknown) => `the plate workflow failed: ${err instanceof Error ? err.message : String(err)}`)
    .then(async (reason) => {
      state.activePlateWorkflowId = undefined;
      await plateDone();
      // A well whose plate ended without its outcome must not wait forever.
      await Promise.all(
        starting
          .filter((c) => state.running.has(c.proposal.proposalId))
          .map((c) =>
            c.handle.then((h) => h.signal(plateEndedSignal, { plateWorkflowId, reason })).catch(() => undefined),
          ),
      );
    });
  if (plateFirst) starting = startWells();
  const children = await Promise.all(starting.map(async (c) => ({ ...c, handle: await c.handle })));
  await Promise.all([
    plate,
    ...children.map(async ({ proposal, input, handle, workflowId }) => {
      const base = {
        proposal,
        location: input.location,
        experimentWorkflowId: workflowId,
        iteration: context.iteration,
      };
      let outcome: ExperimentOutcome;
      try {
        const report = await handle.result();
        outcome = {
          ...base,
          status: 'succeeded',
          readout: report.readout,
          costUsd: report.costUsd,
          completedSteps: ['seed', 'dose', 'measure'],
        };
      } catch (err) {
        const failure =
          err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
        const details = failure?.details?.[0] as ExperimentFailureDetails | undefined;
        outcome = {
          ...base,
          status: 'failed',
          failure: { type: failure?.type ?? INSTRUMENT_FAULT, message: failure?.message ?? String(err) },
          costUsd: details?.costUsd ?? 0,
          completedSteps: (details?.completedSteps ?? []) as ExperimentOutcome['completedSteps'],
        };
      }
      state.recordOutcome(outcome);
    }),
  ]);
}

function searchAttributes(context: BatchContext, proposal: Proposal) {
  return [
    { key: CAMPAIGN_ID, value: context.state.campaignId },
    ...(context.searchableNames === false
      ? []
      : [
          { key: CELL_LINE, value: [proposal.cellLine] },
          { key: COMPOUND, value: [proposal.isControl ? 'vehicle' : proposal.compound] },
        ]),
    { key: ASSAY, value: proposal.assay },
  ];
}

/** What the plate is told: its wells and the protocol, on the campaign's clock and priority. */
function plateInput(
  context: BatchContext,
  wells: { proposal: Proposal; input: Omit<ExperimentInput, 'plateWorkflowId'>; workflowId: string }[],
): PlateInput {
  const { state } = context;
  const { config } = state;
  return {
    plateId: context.plateId,
    plateLabel: plateLabel(config.name, context.iteration),
    campaignId: state.campaignId,
    labTaskQueue: context.labTaskQueue,
    assay: config.assay,
    protocol: wells[0]?.input.protocol ?? protocolOf(config),
    secondsPerLabHour: config.secondsPerLabHour,
    heartbeatTimeoutSeconds: config.heartbeatTimeoutSeconds,
    priorityKey: state.snapshot.priorityKey,
    fairnessKey: state.campaignId,
    incubatorSlot: {
      incubatorWorkflowId: incubatorWorkflowId(context.labTaskQueue),
      holderWorkflowId: state.campaignId,
    },
    wells: wells.map(({ proposal, input, workflowId }) => ({
      well: input.location.well,
      experimentWorkflowId: workflowId,
      cellLine: proposal.cellLine,
      compound: proposal.isControl ? '' : proposal.compound,
      doseMicromolar: proposal.isControl ? 0 : proposal.doseMicromolar,
    })),
  };
}

function protocolOf(config: BatchContext['state']['config']) {
  return {
    ...config.protocol,
    cellsPerWell: config.assay === 'imaging' ? CELLS_PER_WELL.imaging : CELLS_PER_WELL.default,
  };
}

function plateLabel(name: string, iteration: number): string {
  return `${name}/p${String(iteration).padStart(3, '0')}`;
}

/** What one well's experiment is told: the lab's instructions, never the lab's model. */
export function experimentInput(
  context: BatchContext,
  proposal: Proposal,
  index: number,
): Omit<ExperimentInput, 'plateWorkflowId'> {
  const { state } = context;
  const { config } = state;
  return {
    proposal,
    location: { plateId: context.plateId, well: wellForIndex(index) },
    protocol: protocolOf(config),
    campaignId: state.campaignId,
    compoundPricing: state.pricingOf(proposal),
    instrumentTimings: state.snapshot.instrumentTimings,
    plateLabel: plateLabel(config.name, context.iteration),
  };
}

/**
 * Each treatment the learner proposed, as `replicates` wells side by side (ids `…-e01`, or
 * `…-e01a`, `…-e01b` … with replicates); vehicle controls stay single wells.
 */
export function withReplicates(proposals: Proposal[], replicates: number): Proposal[] {
  if (replicates <= 1) return proposals;
  return proposals.flatMap((p) =>
    p.isControl
      ? [p]
      : Array.from({ length: replicates }, (_, r) => ({
          ...p,
          proposalId: `${p.proposalId}${String.fromCharCode(97 + r)}`,
        })),
  );
}

export function describeProposal(p: Proposal): string {
  return p.isControl
    ? `${p.cellLine} vehicle control (${p.assay})`
    : `${p.cellLine} × ${p.compound} @ ${p.doseMicromolar} µM (${p.assay})`;
}
