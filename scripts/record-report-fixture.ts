import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CampaignResults, CampaignState } from '../src/domain/campaign-status';
import { COST_CATEGORIES, costByCategory, type CostCategory, type ExperimentStep } from '../src/domain/costs';
import { normalisePlates } from '../src/domain/normalise';
import { PROTOCOL } from '../src/domain/prices';
import type { ExperimentOutcome, Observation, PairEstimate } from '../src/domain/types';
import { builtinLabProfile } from '../src/config/lab-profile';
import { measure, pipettingFactor, viableCellsAtRead, wellFractionAlive } from '../src/lab/biology';
import { isEdge, wellForIndex } from '../src/lab/plate';
import { streamFor } from '../src/lab/rng';
import { bayesianProposer } from '../src/learner/bayesian/index';
import type { ProposerSettings } from '../src/learner/proposer';

/**
 * `tsx scripts/record-report-fixture.ts`: the campaign behind the report tests, run without
 * Temporal. The Bayesian learner proposes each batch exactly as the campaign activity would; the
 * virtual lab's pure biology (pipetting, Hill kill, growth, luminescence read, contamination drawn
 * per well as the lab does) answers it; plates are normalised to their vehicle wells and costed by
 * the project's price table. It writes test/fixtures/report/campaign-results.json, which the tests
 * read, so a run of the tests never waits on the learner. Deterministic: rerun it after a change
 * to the learner or the lab and commit the new file.
 */

const OUT = resolve('test/fixtures/report/campaign-results.json');
const NAME = 'report-fixture';
const CAMPAIGN_ID = `campaign-${NAME}`;
const PLATE_PREFIX = `${NAME}-0f1c2d3e`;
const MAX_ITERATIONS = 6;
const BATCH = 16;
const BUDGET_USD = 200;
/** Raised from the lab default (0) so the report has failed wells to show. */
const CONTAMINATION_RATE = 0.04;
const ATTACHMENT_HOURS = 4;
const TREATMENT_HOURS = 24;

const settings: ProposerSettings = {
  cellLines: ['U2OS', 'HEK293T'],
  compounds: ['staurosporine', 'tunicamycin', 'cisplatin'],
  doseRange: { minMicromolar: 0.001, maxMicromolar: 10 },
  assay: 'viability',
  objective: { type: 'ic50', halfWidthLog10: 0.1 },
  seed: 42,
  controlsPerLine: 2,
};

const profile = builtinLabProfile();

function observationsOf(outcomes: ExperimentOutcome[], controls: boolean): Observation[] {
  return outcomes.flatMap((o) =>
    o.status === 'succeeded' && o.proposal.isControl === controls && o.normalisedResponse !== undefined
      ? [
          {
            cellLine: o.proposal.cellLine,
            compound: controls ? '' : o.proposal.compound,
            doseMicromolar: o.proposal.doseMicromolar,
            response: o.normalisedResponse,
            plateId: o.location.plateId,
            iteration: o.iteration,
          },
        ]
      : [],
  );
}

function categoryCosts(o: ExperimentOutcome, steps: readonly ExperimentStep[]): Record<CostCategory, number> {
  const compound = o.proposal.isControl ? undefined : profile.compounds[o.proposal.compound];
  return costByCategory(o.proposal.assay, o.proposal.doseMicromolar, compound, steps);
}

/** One well through seed → dose → read on the virtual lab's biology, keyed like the lab's noise. */
function runWell(base: Omit<ExperimentOutcome, 'status' | 'costUsd'>, noiseKey: string): ExperimentOutcome {
  const { proposal, location } = base;
  const biology = profile.cellLines[proposal.cellLine]!;
  const compound = profile.compounds[proposal.compound];
  const edge = isEdge(location.well);
  const cellsSeeded = Math.round(
    PROTOCOL.cellsPerWell * pipettingFactor(edge, streamFor(settings.seed, noiseKey, location.well, 'seed')),
  );
  const doseNoise = streamFor(settings.seed, noiseKey, location.well, 'dose');
  const delivered = proposal.doseMicromolar * pipettingFactor(edge, doseNoise);
  const truth = compound && !proposal.isControl ? compound.responses[proposal.cellLine] : undefined;
  const fractionAlive = wellFractionAlive(delivered, truth, biology.bioCv, doseNoise);
  const cost = (steps: ExperimentStep[]) =>
    Math.round(
      Object.values(categoryCosts({ ...base, status: 'failed', costUsd: 0 }, steps)).reduce((s, v) => s + v, 0) * 1e6,
    ) / 1e6;
  if (streamFor(settings.seed, noiseKey, location.well, 'contamination').chance(CONTAMINATION_RATE)) {
    return {
      ...base,
      status: 'failed',
      failure: {
        type: 'Contamination',
        message: `well ${location.plateId}/${location.well} (${proposal.cellLine}) is contaminated`,
      },
      costUsd: cost(['seed', 'dose']),
      completedSteps: ['seed', 'dose'],
    };
  }
  const viableCells = viableCellsAtRead({
    cellsSeeded,
    biology,
    edge,
    attachmentHours: ATTACHMENT_HOURS,
    treatmentHours: TREATMENT_HOURS,
    fractionAlive,
  });
  const readout = measure({
    assay: proposal.assay,
    viableCells,
    biology,
    edge,
    fractionAlive,
    treatmentHours: TREATMENT_HOURS,
    noise: streamFor(settings.seed, noiseKey, location.well, 'read', 1),
  });
  return {
    ...base,
    status: 'succeeded',
    readout,
    costUsd: cost(['seed', 'dose', 'measure']),
    completedSteps: ['seed', 'dose', 'measure'],
  };
}

function record(): CampaignResults {
  let outcomes: ExperimentOutcome[] = [];
  let estimates: PairEstimate[] = [];
  let state: CampaignState = 'completed';
  let detail = 'max iterations reached';
  let iteration = 0;
  const learn = (it: number, maxTreatments: number) =>
    bayesianProposer.propose({
      settings,
      observations: observationsOf(outcomes, false),
      controlObservations: observationsOf(outcomes, true),
      triedDoses: outcomes
        .filter((o) => !o.proposal.isControl)
        .map((o) => ({
          cellLine: o.proposal.cellLine,
          compound: o.proposal.compound,
          doseMicromolar: o.proposal.doseMicromolar,
        })),
      iteration: it,
      maxTreatments,
      idPrefix: `i${String(it).padStart(3, '0')}`,
    });
  for (let it = 1; it <= MAX_ITERATIONS; it++) {
    const proposed = learn(it, BATCH);
    estimates = proposed.estimates;
    if (proposed.finished) {
      state = 'goal reached';
      detail = proposed.finished.detail;
      break;
    }
    iteration = it;
    const plateId = `${PLATE_PREFIX}-p${String(it).padStart(3, '0')}`;
    const noiseKey = `${NAME}/p${String(it).padStart(3, '0')}`;
    const plate = proposed.proposals.map((proposal, index) =>
      runWell(
        {
          proposal,
          location: { plateId, well: wellForIndex(index) },
          experimentWorkflowId: `${CAMPAIGN_ID}/${proposal.proposalId}`,
          iteration: it,
        },
        noiseKey,
      ),
    );
    outcomes = [...outcomes, ...normalisePlates(plate)];
    console.log(`iteration ${it}: ${plate.length} wells, ${plate.filter((o) => o.status === 'failed').length} failed`);
  }
  // As the campaign does on finishing: re-estimate with the last batch in.
  if (state !== 'goal reached') estimates = learn(iteration + 1, 0).estimates;

  const spentByCategory = Object.fromEntries(COST_CATEGORIES.map((c) => [c, 0])) as Record<CostCategory, number>;
  for (const o of outcomes) {
    const byCategory = categoryCosts(o, o.completedSteps ?? []);
    for (const c of COST_CATEGORIES) spentByCategory[c] += byCategory[c];
  }
  for (const c of COST_CATEGORIES) spentByCategory[c] = Math.round(spentByCategory[c] * 100) / 100;
  const spentUsd = Math.round(outcomes.reduce((s, o) => s + o.costUsd, 0) * 100) / 100;
  const treatments = outcomes.filter((o) => !o.proposal.isControl);
  return {
    status: {
      campaignId: CAMPAIGN_ID,
      name: NAME,
      state,
      detail,
      iteration,
      maxIterations: MAX_ITERATIONS,
      experiments: {
        done: treatments.filter((o) => o.status === 'succeeded').length,
        running: 0,
        failed: outcomes.filter((o) => o.status === 'failed').length,
        controls: outcomes.filter((o) => o.proposal.isControl && o.status === 'succeeded').length,
      },
      spentUsd,
      spentByCategory,
      committedUsd: spentUsd,
      budgetUsd: BUDGET_USD,
      paused: false,
      stopRequested: false,
      estimates,
      runs: 0,
      waitingFor: [],
      priorityKey: 3,
      rejections: [],
    },
    outcomes,
  };
}

const t0 = Date.now();
const results = record();
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
console.log(
  `wrote ${OUT}: ${results.outcomes.length} wells, ${results.status.state} (${results.status.detail}), ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);
