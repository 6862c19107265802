import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { INSTRUMENT_FAULT, NOT_RUN_STOPPED } from '../domain/failures';
import { stepCosts, type CompoundPricing, type InstrumentTimings } from '../domain/costs';
import type { Proposal, RawReadout, WellLocation } from '../domain/types';
import * as messages from '../temporal/messages';

/**
 * One well: seed → incubate (attachment) → add compound → incubate (treatment) → measure.
 *
 * The well's plate runs the steps (plate.ts: one instrument run per plate step, the incubations
 * as the plate's timers); this workflow is the well's own record. Its history holds each step's
 * outcome for this well as it arrives from the plate, it charges each step as it is done, and it
 * ends with the readout or, at the first failed step, as a failed workflow whose ApplicationFailure
 * carries the fault type and what was already spent, so the campaign can record the reason,
 * exclude the well from learning and still count its cost.
 */
export interface ExperimentInput {
  proposal: Proposal;
  location: WellLocation;
  /** The campaign this well belongs to (its consumption is charged to it). */
  campaignId: string;
  /** The plate workflow that runs this well's steps. */
  plateWorkflowId: string;
  protocol: { attachmentHours: number; treatmentHours: number; cellsPerWell: number };
  /** The lab's catalogue price of the compound, so the well reports what its steps cost. */
  compoundPricing?: CompoundPricing;
  /** The instrument time each step is charged at (the lab's catalogue; absent: the built-in lab's). */
  instrumentTimings?: InstrumentTimings;
  /** The plate's logical label, stable across reruns of the campaign (as on a barcode). */
  plateLabel?: string;
}

export interface ExperimentReport {
  readout: RawReadout;
  costUsd: number;
}

/** Details attached to a failed experiment's ApplicationFailure. */
export interface ExperimentFailureDetails {
  costUsd: number;
  completedSteps: string[];
}

const STEPS: messages.WellStep[] = ['seed', 'dose', 'measure'];

export async function experimentWorkflow(input: ExperimentInput): Promise<ExperimentReport> {
  const arrived = new Map<messages.WellStep, messages.WellStepReport>();
  let plateEnded: string | undefined;
  // The first report of a step is the step's outcome; a repeat (a replayed signal) changes nothing.
  setHandler(messages.wellStepSignal, (report) => {
    if (!arrived.has(report.step)) arrived.set(report.step, report);
  });
  setHandler(messages.plateEndedSignal, ({ reason }) => void (plateEnded ??= reason));
  // Older campaigns signal priority to their experiments; the plate uses it now.
  setHandler(messages.experimentPrioritySignal, () => undefined);

  const { proposal } = input;
  const costs = stepCosts(proposal.assay, proposal.doseMicromolar, input.compoundPricing, input.instrumentTimings);
  const costOf = { seed: costs.seedUsd, dose: costs.doseUsd, measure: costs.measureUsd };
  let spentUsd = 0;
  const completedSteps: string[] = [];
  let readout: RawReadout | undefined;
  for (const step of STEPS) {
    await condition(() => arrived.has(step) || plateEnded !== undefined);
    const report = arrived.get(step);
    const outcome = report?.outcome ?? {
      ok: false as const,
      failure: { type: INSTRUMENT_FAULT, message: `the plate ended without reporting this well: ${plateEnded}` },
    };
    if (!outcome.ok) {
      throw ApplicationFailure.create({
        type: outcome.failure.type,
        message:
          outcome.failure.type === NOT_RUN_STOPPED
            ? outcome.failure.message
            : `${step} failed: ${outcome.failure.message}`,
        nonRetryable: true,
        details: [{ costUsd: round6(spentUsd), completedSteps } satisfies ExperimentFailureDetails],
      });
    }
    spentUsd += costOf[step];
    completedSteps.push(step);
    if (step === 'measure') readout = outcome.value as RawReadout;
  }
  return { readout: readout!, costUsd: round6(spentUsd) };
}

function round6(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
