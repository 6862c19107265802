import type { CompoundPricing } from '../domain/costs';
import { plateCostUsd, stepCosts, WELLS_PER_PLATE } from '../domain/costs';
import type { CampaignResults } from '../domain/campaign-status';
import type { Assay, ExperimentOutcome } from '../domain/types';
import type { LabStore, OperationKind, OperationRecord } from './lab-store';

/**
 * Holds a finished campaign against the lab's own operations log: the proof that nothing was
 * lost and nothing done twice, whatever crashed on the way. Checks every well the campaign used
 * was seeded, dosed and read at most once, exactly once up to the step where its experiment
 * ended; every plate step ran as one protocol run (one seed, one dose, one read per plate: every
 * well's operation of a step carries the same plate-step key); every result the lab produced
 * reached the campaign exactly once and unchanged; and the money the campaign says it spent is
 * the cost of what the lab physically did.
 */
export interface CampaignAudit {
  /** Wells the campaign recorded an outcome for. */
  wells: number;
  /** (well, step) pairs the lab performed more than once. */
  duplicateOperations: number;
  /** Wells whose readout (or failure) the lab produced but the campaign did not record, or recorded differently. */
  lostResults: number;
  /** Proposals recorded more than once. */
  duplicateResults: number;
  /** Steps the campaign counted as done that the lab has no record of. */
  missingOperations: number;
  /** Lab operations on wells no outcome accounts for. */
  strayOperations: number;
  /** Plate steps the lab ran (one seed, one dose and one read per plate when nothing went wrong). */
  plateSteps: number;
  /** (plate, step) pairs the lab ran as more than one protocol run (different operation keys). */
  repeatedPlateSteps: number;
  physicalCostUsd: number;
  spentUsd: number;
  /** One line per problem found; empty when the campaign is clean. */
  problems: string[];
}

const STEPS: OperationKind[] = ['seed', 'dose', 'read'];

export function auditCampaign(input: {
  results: CampaignResults;
  store: LabStore;
  compounds: Record<string, CompoundPricing | undefined>;
}): CampaignAudit {
  const { results, store, compounds } = input;
  const problems: string[] = [];
  const byWell = new Map<string, OperationRecord[]>();
  for (const op of store.listOperations()) {
    const key = `${op.plateId}/${op.well}`;
    byWell.set(key, [...(byWell.get(key) ?? []), op]);
  }

  // Each well's operation key is `<plate step key>/<well>`: a plate step run twice shows two keys.
  const runsByPlateStep = new Map<string, Set<string>>();
  const plates = new Set(results.outcomes.map((o) => o.location.plateId));
  for (const op of store.listOperations()) {
    if (!plates.has(op.plateId)) continue;
    const suffix = `/${op.well}`;
    const run = op.operationKey.endsWith(suffix) ? op.operationKey.slice(0, -suffix.length) : op.operationKey;
    const key = `${op.plateId} ${op.kind}`;
    runsByPlateStep.set(key, (runsByPlateStep.get(key) ?? new Set()).add(run));
  }
  let plateSteps = 0;
  let repeatedPlateSteps = 0;
  for (const [key, runs] of runsByPlateStep) {
    plateSteps += runs.size;
    if (runs.size > 1) {
      repeatedPlateSteps++;
      problems.push(`plate ${key.replace(' ', ': ')} ran as ${runs.size} protocol runs (${[...runs].join(', ')})`);
    }
  }

  const seen = new Map<string, number>();
  for (const o of results.outcomes) seen.set(o.proposal.proposalId, (seen.get(o.proposal.proposalId) ?? 0) + 1);
  const duplicateResults = [...seen.values()].filter((n) => n > 1).length;
  if (duplicateResults > 0) problems.push(`${duplicateResults} proposal(s) recorded more than once`);

  let duplicateOperations = 0;
  let lostResults = 0;
  let missingOperations = 0;
  let physicalCostUsd = 0;
  const accounted = new Set<string>();
  // Plates count whole: the wells of an opened plate no experiment was seeded in are charged too.
  const seededPerPlate = new Map<string, { assay: Assay; wells: number }>();
  for (const outcome of results.outcomes) {
    const key = `${outcome.location.plateId}/${outcome.location.well}`;
    if (accounted.has(key)) {
      problems.push(`well ${key} holds two experiments`);
      continue;
    }
    accounted.add(key);
    const ops = byWell.get(key) ?? [];
    const costs = stepCosts(
      outcome.proposal.assay,
      outcome.proposal.doseMicromolar,
      outcome.proposal.isControl ? undefined : compounds[outcome.proposal.compound],
    );
    const costOf: Record<OperationKind, number> = { seed: costs.seedUsd, dose: costs.doseUsd, read: costs.measureUsd };
    for (const kind of STEPS) {
      const done = ops.filter((op) => op.kind === kind);
      if (done.length > 1) {
        duplicateOperations++;
        problems.push(`${key}: ${kind} performed ${done.length} times`);
      }
      const succeeded = done.filter((op) => op.status === 'succeeded').length;
      physicalCostUsd += succeeded * costOf[kind];
      if (kind === 'seed' && succeeded > 0) {
        const plate = seededPerPlate.get(outcome.location.plateId) ?? { assay: outcome.proposal.assay, wells: 0 };
        plate.wells++;
        seededPerPlate.set(outcome.location.plateId, plate);
      }
    }
    const issue = compareWithLab(outcome, ops);
    if (issue?.kind === 'lost') lostResults++;
    if (issue?.kind === 'missing') missingOperations++;
    if (issue) problems.push(`${key} (${outcome.proposal.proposalId}): ${issue.message}`);
  }
  for (const plate of seededPerPlate.values())
    physicalCostUsd += (plateCostUsd(plate.assay) * Math.max(0, WELLS_PER_PLATE - plate.wells)) / WELLS_PER_PLATE;
  const strays = [...byWell.keys()].filter((k) => !accounted.has(k));
  const strayOperations = strays.reduce((n, k) => n + (byWell.get(k)?.length ?? 0), 0);
  // A well the lab read whose experiment the campaign never recorded is a lost result.
  for (const k of strays) {
    if (byWell.get(k)?.some((op) => op.kind === 'read')) lostResults++;
    problems.push(`${k}: ${byWell.get(k)?.length} lab operation(s) on a well no outcome accounts for`);
  }
  const spentUsd = results.status.spentUsd;
  if (Math.abs(spentUsd - physicalCostUsd) > 0.01)
    problems.push(`spent $${spentUsd.toFixed(2)} but the lab physically did $${physicalCostUsd.toFixed(2)} of work`);
  return {
    wells: accounted.size,
    duplicateOperations,
    lostResults,
    duplicateResults,
    missingOperations,
    strayOperations,
    plateSteps,
    repeatedPlateSteps,
    physicalCostUsd: Math.round(physicalCostUsd * 100) / 100,
    spentUsd,
    problems,
  };
}

/** Does the recorded outcome say what the lab's log says happened to its well? */
function compareWithLab(
  outcome: ExperimentOutcome,
  ops: OperationRecord[],
): { kind: 'lost' | 'missing' | 'mismatch'; message: string } | undefined {
  const op = (kind: OperationKind) => ops.find((o) => o.kind === kind);
  const read = op('read');
  if (outcome.status === 'succeeded') {
    for (const kind of STEPS)
      if (op(kind)?.status !== 'succeeded')
        return { kind: 'missing', message: `recorded as succeeded but the lab has no successful ${kind}` };
    if (JSON.stringify(read?.result) !== JSON.stringify(outcome.readout))
      return { kind: 'lost', message: 'the recorded readout differs from what the lab read' };
    return undefined;
  }
  // A failed experiment: the lab's failed step (if the failure was physical) must carry the same fault type.
  const failedOp = ops.find((o) => o.status === 'failed');
  if (read?.status === 'succeeded')
    return { kind: 'lost', message: `the lab read the well but the campaign recorded ${outcome.failure?.type}` };
  if (failedOp && (failedOp.result as { type?: string }).type !== outcome.failure?.type)
    return {
      kind: 'mismatch',
      message: `lab fault ${(failedOp.result as { type?: string }).type}, recorded ${outcome.failure?.type}`,
    };
  return undefined;
}

/** The parts of an outcome that must not depend on crashes, ids or timing. */
export function outcomeFingerprint(o: ExperimentOutcome) {
  return {
    proposalId: o.proposal.proposalId,
    cellLine: o.proposal.cellLine,
    compound: o.proposal.compound,
    doseMicromolar: o.proposal.doseMicromolar,
    assay: o.proposal.assay as Assay,
    well: o.location.well,
    iteration: o.iteration,
    status: o.status,
    failureType: o.failure?.type,
    readout: o.readout,
    normalisedResponse: o.normalisedResponse,
    costUsd: o.costUsd,
  };
}

/** Differences between two runs of the same campaign, proposal by proposal; empty when identical. */
export function compareRuns(actual: CampaignResults, expected: CampaignResults): string[] {
  const differences: string[] = [];
  const mine = new Map(actual.outcomes.map((o) => [o.proposal.proposalId, outcomeFingerprint(o)]));
  const theirs = new Map(expected.outcomes.map((o) => [o.proposal.proposalId, outcomeFingerprint(o)]));
  for (const [id, e] of theirs) {
    const a = mine.get(id);
    if (!a) differences.push(`${id}: missing`);
    else if (JSON.stringify(a) !== JSON.stringify(e))
      differences.push(`${id}: ${JSON.stringify(a)} instead of ${JSON.stringify(e)}`);
  }
  for (const id of mine.keys()) if (!theirs.has(id)) differences.push(`${id}: not in the uninterrupted run`);
  if (JSON.stringify(actual.status.estimates) !== JSON.stringify(expected.status.estimates))
    differences.push('the final estimates differ');
  if (actual.status.iteration !== expected.status.iteration)
    differences.push(`ran ${actual.status.iteration} iterations instead of ${expected.status.iteration}`);
  return differences;
}
