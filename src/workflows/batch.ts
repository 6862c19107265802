import { ApplicationFailure, ChildWorkflowFailure, executeChild } from '@temporalio/workflow';
import type { ExperimentOutcome, Proposal } from '../domain/types';
import { INSTRUMENT_FAULT } from '../domain/failures';
import { wellForIndex } from '../lab/plate';
import { ASSAY, CAMPAIGN_ID, CELL_LINE, COMPOUND } from '../temporal/search-attributes';
import type { CampaignStateModel } from './campaign-state';
import { experimentWorkflow, type ExperimentFailureDetails, type ExperimentInput } from './experiment';

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

export async function runBatch(context: BatchContext, batch: Proposal[]): Promise<void> {
  const { state } = context;
  await Promise.all(
    batch.map(async (proposal, index) => {
      const input = experimentInput(context, proposal, index);
      const workflowId = `${state.campaignId}/${proposal.proposalId}`;
      state.running.set(proposal.proposalId, {
        proposal,
        location: input.location,
        workflowId,
        committedUsd: state.costOf(proposal),
      });
      const base = {
        proposal,
        location: input.location,
        experimentWorkflowId: workflowId,
        iteration: context.iteration,
      };
      let outcome: ExperimentOutcome;
      try {
        const report = await executeChild(experimentWorkflow, {
          workflowId,
          args: [input],
          staticSummary: describeProposal(proposal),
          priority: { priorityKey: state.snapshot.priorityKey, fairnessKey: state.campaignId },
          typedSearchAttributes: [
            { key: CAMPAIGN_ID, value: state.campaignId },
            ...(context.searchableNames === false
              ? []
              : [
                  { key: CELL_LINE, value: [proposal.cellLine] },
                  { key: COMPOUND, value: [proposal.isControl ? 'vehicle' : proposal.compound] },
                ]),
            { key: ASSAY, value: proposal.assay },
          ],
        });
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
  );
}

/** What one well's experiment is told: the lab's instructions, never the lab's model. */
export function experimentInput(context: BatchContext, proposal: Proposal, index: number): ExperimentInput {
  const { state } = context;
  const { config } = state;
  return {
    proposal,
    location: { plateId: context.plateId, well: wellForIndex(index) },
    labTaskQueue: context.labTaskQueue,
    protocol: {
      ...config.protocol,
      cellsPerWell: config.assay === 'imaging' ? CELLS_PER_WELL.imaging : CELLS_PER_WELL.default,
    },
    secondsPerLabHour: config.secondsPerLabHour,
    campaignId: state.campaignId,
    heartbeatTimeoutSeconds: config.heartbeatTimeoutSeconds,
    priorityKey: state.snapshot.priorityKey,
    fairnessKey: state.campaignId,
    compoundPricing: state.pricingOf(proposal),
    plateLabel: `${config.name}/p${String(context.iteration).padStart(3, '0')}`,
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
