import type { PairEstimate, Proposal } from '../../domain/types';
import { pairKey } from '../../domain/types';
import type { ProposeInput, ProposeOutput, Proposer } from '../proposer';
import type { OptimisationRule } from './acquisition';
import { analyseCampaign, type CampaignAnalysis, type PairAnalysis } from './analyse';
import { DEFAULT_RELATIVE_WELL_COST, EI_SETTLED, optimisationBatch, targetedBatch, type Pick } from './batch';
import { DEFAULT_GRID_STEP_LOG10, doseMicromolar } from './dose-grid';
import { DEFAULT_PRIORS, type CurvePriorSpec } from './priors';
import { RandomStream, seedFrom } from './rng';

/**
 * The Bayesian learner behind the Proposer interface. Each call refits every pair from the
 * observations (a pure function of its input, seed included, so Temporal can record it once),
 * marks pairs answered / out of range / inactive, and spends the batch where the goal's
 * uncertainty falls most per dollar.
 */

export interface BayesianProposerOptions {
  priors?: Partial<CurvePriorSpec>;
  /** Dilution step of the dose grid in log10 units (default 1/16: a 1:1.155 series). */
  gridStepLog10?: number;
  /** Posterior samples per pair (default 512). */
  samples?: number;
  /** Samples used by the acquisition (default 96; the linearised score uses twice as many). */
  acquisitionSamples?: number;
  /** Rule for `maximize` / `minimize` (default expected improvement). */
  optimisation?: OptimisationRule;
  /** Estimation score: exact expected variance over fantasies (default) or its linearisation. */
  scoring?: 'ensemble' | 'linear';
  /** Fantasy truths for the ensemble score (default 32). */
  fantasyTruths?: number;
  /** Aim batches at this fraction of the goal half-width (default 1; below 1 fills rounds more eagerly). */
  goalMargin?: number;
  /** Share strength across the lines of each compound (hierarchical prior; default true). */
  shareAcrossLines?: boolean;
  /**
   * Never spend more treatment wells on one pair than this (default 24, the standard 8 × 3
   * design): a pair that reaches it stops with the interval it has.
   */
  maxWellsPerPair?: number;
  /**
   * Stop a pair early when, at the rate its interval is shrinking, the goal would need well over
   * the cap (default true). Off for fixed-budget runs.
   */
  stopWhenOutOfReach?: boolean;
}

export interface BayesianProposer extends Proposer {
  /** The full analysis behind a call, for status pages and the benchmark. */
  analyse(input: ProposeInput): CampaignAnalysis;
}

export function createBayesianProposer(options: BayesianProposerOptions = {}): BayesianProposer {
  const priors: CurvePriorSpec = { ...DEFAULT_PRIORS, ...options.priors };
  const analysisOptions = {
    priors,
    gridStepLog10: options.gridStepLog10 ?? DEFAULT_GRID_STEP_LOG10,
    samples: options.samples ?? 512,
    shareAcrossLines: options.shareAcrossLines ?? true,
  };
  const maxWellsPerPair = options.maxWellsPerPair ?? 24;
  const stopWhenOutOfReach = options.stopWhenOutOfReach ?? true;
  const acquisitionSamples = options.acquisitionSamples ?? 96;
  const rule = options.optimisation ?? 'ei';

  const analyse = (input: ProposeInput): CampaignAnalysis => analyseCampaign(input, analysisOptions);

  return {
    analyse,
    propose(input: ProposeInput): ProposeOutput {
      const analysis = analyse(input);
      const { settings } = input;
      const ctx = {
        analysis,
        maxTreatments: Math.max(0, Math.floor(input.maxTreatments)),
        costPerWell: DEFAULT_RELATIVE_WELL_COST[settings.assay] ?? 1,
        acquisitionSamples,
        fantasyTruths: options.fantasyTruths ?? 32,
        goalMargin: options.goalMargin ?? 1,
        scoring: options.scoring ?? 'ensemble',
        seed: settings.seed,
      };
      let picks: Pick[];
      let finished: ProposeOutput['finished'];
      const objective = settings.objective;
      if (objective.type === 'maximize' || objective.type === 'minimize') {
        const rng = new RandomStream(seedFrom(settings.seed, input.iteration, 'thompson'));
        const res = optimisationBatch(ctx, objective.type, rule, rng);
        for (const p of analysis.pairs) {
          const best = res.initialBest.get(p.key) ?? 0;
          p.summary.state = p.summary.wells > 0 && best < EI_SETTLED ? 'answered' : 'estimating';
        }
        picks = res.picks;
        const open = [...res.initialBest.values()].some((v) => v >= EI_SETTLED);
        if (!open)
          finished = {
            reason: 'goal reached',
            detail: `no dose is expected to improve the ${objective.type === 'maximize' ? 'highest' : 'lowest'} response by ${EI_SETTLED} or more`,
          };
      } else {
        const triedCount = new Map<string, number>();
        for (const t of input.triedDoses)
          triedCount.set(pairKey(t.cellLine, t.compound), (triedCount.get(pairKey(t.cellLine, t.compound)) ?? 0) + 1);
        const spent = (p: PairAnalysis) => Math.max(p.summary.wells, triedCount.get(p.key) ?? 0);
        const estimating = analysis.pairs.filter((p) => p.summary.state === 'estimating');
        const settled = new Set<PairAnalysis>();
        for (const p of estimating) {
          let why: string | undefined;
          if (spent(p) >= maxWellsPerPair) why = `stopped at the well cap (${maxWellsPerPair})`;
          else if (p.candidates.length === 0) why = 'no untried doses left';
          else if (stopWhenOutOfReach && outOfReach(p, spent(p), maxWellsPerPair))
            why = `stopped: ±${p.goalHalfWidth.toFixed(2)} after ${spent(p)} wells, the goal is out of reach within ${maxWellsPerPair}`;
          if (why) {
            settled.add(p);
            p.summary.note = [why, p.summary.note].filter(Boolean).join('; ');
          }
        }
        const active = estimating.filter((p) => !settled.has(p));
        picks = targetedBatch(
          ctx,
          active,
          (p) => new RandomStream(seedFrom(settings.seed, input.iteration, 'fantasy', p.key)),
          (p) => maxWellsPerPair - spent(p),
        );
        const stuck = estimating.filter((p) => !active.includes(p));
        if (active.length === 0)
          finished = { reason: 'goal reached', detail: describeStates(analysis.pairs, stuck.length) };
        else if (picks.length === 0 && ctx.maxTreatments > 0)
          // Never hand the campaign an empty batch to loop on: no dose would narrow any interval.
          finished = {
            reason: 'goal reached',
            detail: `${describeStates(analysis.pairs, stuck.length)}; no dose is expected to narrow the ${active.length} remaining intervals`,
          };
      }
      if (finished) picks = [];

      const treatments: Proposal[] = picks.map((p, i) => ({
        proposalId: `${input.idPrefix}-e${String(i + 1).padStart(2, '0')}`,
        cellLine: p.pair.cellLine,
        compound: p.pair.compound,
        doseMicromolar: doseMicromolar(p.log10Dose),
        assay: settings.assay,
        isControl: false,
      }));
      const linesUsed = settings.cellLines.filter((line) => treatments.some((t) => t.cellLine === line));
      const controls: Proposal[] = [];
      for (const cellLine of linesUsed)
        for (let k = 0; k < settings.controlsPerLine; k++)
          controls.push({
            proposalId: `${input.idPrefix}-c${String(controls.length + 1).padStart(2, '0')}`,
            cellLine,
            compound: '',
            doseMicromolar: 0,
            assay: settings.assay,
            isControl: true,
          });
      return {
        proposals: [...treatments, ...controls],
        estimates: analysis.pairs.map(toEstimate),
        ...(finished ? { finished } : {}),
      };
    },
  };
}

/**
 * A pair whose interval shrinks like 1/√wells would need about n·(w/goal)² wells in all; when that
 * is well beyond the cap (shallow curves, incomplete kill), more wells buy little and the pair stops
 * with the estimate it has. Not judged before a few wells, while the prior still dominates, nor
 * while the goal dose may still lie outside the range.
 */
const OUT_OF_REACH_MIN_WELLS = 8;
const OUT_OF_REACH_FACTOR = 1.5;

function outOfReach(p: PairAnalysis, wells: number, cap: number): boolean {
  if (p.goal.kind === 'optimise' || wells < OUT_OF_REACH_MIN_WELLS) return false;
  // Only once the goal dose is bracketed: an interval that is wide because the IC50 may lie
  // beyond the range narrows by moving doses, not like 1/√wells.
  if (p.summary.probAboveRange > 0.05 || p.summary.probBelowRange > 0.05) return false;
  const needed = wells * (p.goalHalfWidth / p.goal.halfWidthLog10) ** 2;
  return needed > OUT_OF_REACH_FACTOR * cap;
}

function describeStates(pairs: PairAnalysis[], stuck: number): string {
  const count = (s: string) => pairs.filter((p) => p.summary.state === s).length;
  const parts = [
    `${count('answered')} answered`,
    `${count('out of range')} out of range`,
    `${count('inactive')} inactive`,
  ];
  if (stuck > 0) parts.push(`${stuck} stopped short of the goal (well cap, goal out of reach or no untried doses)`);
  return `every pair is settled: ${parts.join(', ')}`;
}

function sig(v: number): number {
  return Number(v.toPrecision(3));
}

export function toEstimate(p: PairAnalysis): PairEstimate {
  const s = p.summary;
  const base: PairEstimate = { cellLine: s.cellLine, compound: s.compound, wells: s.wells, state: s.state };
  if (s.wells === 0) return { ...base, note: 'no data yet' };
  return {
    ...base,
    ic50Micromolar: sig(Math.pow(10, s.log10Ic50.median)),
    ic50LowMicromolar: sig(Math.pow(10, s.log10Ic50.lo)),
    ic50HighMicromolar: sig(Math.pow(10, s.log10Ic50.hi)),
    hillSlope: sig(s.hill.median),
    top: sig(s.top.median),
    bottom: sig(s.bottom.median),
    note: s.note,
  };
}

export const bayesianProposer: BayesianProposer = createBayesianProposer();
