import type { Ic50Value, PairEstimate, Proposal } from '../../domain/types';
import { ANSWERED_STATES, describePairStates } from '../../domain/pair-states';
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
   * design) unless the campaign's settings give their own `maxWellsPerPair`: a pair that reaches
   * it stops in state `well cap` with the interval it has.
   */
  maxWellsPerPair?: number;
  /**
   * Stop a pair early when, at the rate its interval is shrinking, the goal would need well over
   * the cap (default false: a pair stops short only at the cap, the budget or the iterations, so
   * it is never given up while it could still reach its goal).
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
  const stopWhenOutOfReach = options.stopWhenOutOfReach ?? false;
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
        // Rejected wells were never run: they are not proposed again but do not use up the cap.
        const triedCount = new Map<string, number>();
        for (const t of input.triedDoses) {
          if (t.rejected) continue;
          const key = pairKey(t.cellLine, t.compound);
          triedCount.set(key, (triedCount.get(key) ?? 0) + 1);
        }
        const cap = settings.maxWellsPerPair ?? maxWellsPerPair;
        const spent = (p: PairAnalysis) => Math.max(p.summary.wells, triedCount.get(p.key) ?? 0);
        const estimating = analysis.pairs.filter((p) => p.summary.state === 'estimating');
        const settled = new Set<PairAnalysis>();
        for (const p of estimating) {
          let why: string | undefined;
          if (spent(p) >= cap) {
            why = `stopped at the well cap (${cap} wells) at ±${p.goalHalfWidth.toFixed(2)}`;
            p.summary.state = 'well cap';
          } else if (p.candidates.length === 0) why = 'no untried doses left in its range';
          else if (stopWhenOutOfReach && outOfReach(p, spent(p), cap))
            why = `stopped: ±${p.goalHalfWidth.toFixed(2)} after ${spent(p)} wells, the goal is out of reach within ${cap}`;
          if (why) {
            settled.add(p);
            p.summary.stopReason = why;
            p.summary.note = [why, p.summary.note].filter(Boolean).join('; ');
          }
        }
        // Narrow enough but not yet backed by data on both sides: the wells it needs are the doses
        // just beyond where the data stop, and they come first. With none left there, the interval
        // is the answer the range allows.
        const supportFirst: Pick[] = [];
        for (const p of estimating) {
          if (settled.has(p) || p.goal.kind !== 'ic50' || p.goalHalfWidth > p.goal.halfWidthLog10) continue;
          const room = Math.min(cap - spent(p), ctx.maxTreatments - supportFirst.length);
          const xs = supportDoses(p);
          if (xs.length === 0) {
            p.summary.state = 'answered';
            p.summary.note = ['no untried doses left beyond its bends: answered without support', p.summary.note].join(
              '; ',
            );
            settled.add(p);
            continue;
          }
          for (const x of xs.slice(0, Math.max(0, room))) supportFirst.push({ pair: p, log10Dose: x, value: Infinity });
          settled.add(p);
        }
        // A range extended because the IC50 likely lies beyond it is resolved by a dose at the new
        // end first: that one well tells "just beyond" (a bottom plateau appears) from "far beyond".
        for (const p of estimating) {
          if (settled.has(p) || supportFirst.length >= ctx.maxTreatments || cap - spent(p) <= 0) continue;
          const s = p.summary;
          const hi = s.observedLog10?.hi ?? -Infinity;
          const lo = s.observedLog10?.lo ?? Infinity;
          const probe =
            s.extended.up && s.probBeyondConfigured.above >= PROBE_EXTENSION_PROB && hi < s.rangeLog10.hi - 0.25
              ? Math.max(...p.candidates)
              : s.extended.down && s.probBeyondConfigured.below >= PROBE_EXTENSION_PROB && lo > s.rangeLog10.lo + 0.25
                ? Math.min(...p.candidates)
                : undefined;
          if (probe !== undefined && Number.isFinite(probe))
            supportFirst.push({ pair: p, log10Dose: probe, value: Infinity });
        }
        const active = estimating.filter((p) => !settled.has(p) || supportFirst.some((k) => k.pair === p));
        const firstCount = (p: PairAnalysis) => supportFirst.filter((k) => k.pair === p).length;
        picks = [
          ...supportFirst,
          ...targetedBatch(
            { ...ctx, maxTreatments: ctx.maxTreatments - supportFirst.length },
            // A probed pair still competes for the rest of the batch (its probe dose is no longer a candidate).
            active
              .filter((p) => !settled.has(p))
              .map((p) =>
                firstCount(p) > 0
                  ? {
                      ...p,
                      candidates: p.candidates.filter(
                        (x) => !supportFirst.some((k) => k.pair === p && k.log10Dose === x),
                      ),
                    }
                  : p,
              ),
            (p) => new RandomStream(seedFrom(settings.seed, input.iteration, 'fantasy', p.key)),
            (p) => cap - spent(p) - firstCount(analysis.pairs[p.index]!),
          ),
        ];
        const answeredAll = analysis.pairs.every((p) => ANSWERED_STATES.has(p.summary.state));
        if (active.length === 0)
          finished = {
            reason: answeredAll ? 'goal reached' : 'pairs settled',
            detail: `no pair is left to work on; ${describeStates(analysis.pairs)}`,
          };
        else if (picks.length === 0 && ctx.maxTreatments > 0) {
          // Never hand the campaign an empty batch to loop on: no dose would narrow any interval.
          for (const p of active) p.summary.stopReason = 'no dose is expected to narrow its interval';
          finished = {
            reason: 'pairs settled',
            detail: `${describeStates(analysis.pairs)}; no dose is expected to narrow the ${active.length} remaining intervals`,
          };
        }
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
 * The untried doses that would back a narrow IC50 interval with data on both sides: up to two
 * on each side that lacks them, nearest first — beyond 50% for the absolute IC50 when the curve
 * surely reaches it, else beyond the plateau bends (10% / 90% of the span) for the relative one.
 */
/** Probe the end of an extended range once the goal dose is at least this likely beyond the configured one. */
const PROBE_EXTENSION_PROB = 0.5;

function supportDoses(p: PairAnalysis): number[] {
  const s = p.summary;
  const useAbsolute = s.probAbsoluteExists >= 0.95 && Number.isFinite(s.absoluteLog10Ic50.median);
  const centre = useAbsolute ? s.absoluteLog10Ic50.median : s.log10Ic50.median;
  const bend = useAbsolute ? 0 : Math.log10(9) / s.hill.median;
  const doses = [...new Set(Array.from(p.data.x, (x) => x.toFixed(4)))].map(Number);
  const below = doses.filter((x) => x < centre - bend).length;
  const above = doses.filter((x) => x > centre + bend).length;
  const out: number[] = [];
  if (below < 2)
    out.push(
      ...p.candidates
        .filter((x) => x < centre - bend)
        .sort((a, b) => b - a)
        .slice(0, 2 - below),
    );
  if (above < 2)
    out.push(
      ...p.candidates
        .filter((x) => x > centre + bend)
        .sort((a, b) => a - b)
        .slice(0, 2 - above),
    );
  return out;
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

function describeStates(pairs: PairAnalysis[]): string {
  return describePairStates(
    pairs.map((p) => ({
      cellLine: p.cellLine,
      compound: p.compound,
      state: p.summary.state,
      ...(p.summary.outOfRange ? { outOfRange: p.summary.outOfRange } : {}),
      ...(p.summary.stopReason ? { stopReason: p.summary.stopReason } : {}),
    })),
  );
}

function sig(v: number): number {
  return Number(v.toPrecision(3));
}

/**
 * An interval end this close to the grid's limit (log10 units) is where the prior was cut off, not
 * where the data put it: it is reported as unbounded (null).
 */
const UNBOUNDED_NEAR_SUPPORT_LOG10 = 0.25;

function endMicromolar(log10: number, support: { lo: number; hi: number }): number | null {
  if (!Number.isFinite(log10)) return null;
  if (log10 <= support.lo + UNBOUNDED_NEAR_SUPPORT_LOG10 || log10 >= support.hi - UNBOUNDED_NEAR_SUPPORT_LOG10)
    return null;
  return sig(Math.pow(10, log10));
}

/** Which side a pair given up as inactive or out of range lies on, if it was. */
function boundSide(s: PairAnalysis['summary']): 'above' | 'below' | undefined {
  if (s.state === 'inactive') return 'above';
  if (s.state === 'out of range') return s.probAboveRange >= s.probBelowRange ? 'above' : 'below';
  return undefined;
}

function ic50Value(
  interval: { median: number; lo: number; hi: number },
  supported: boolean,
  s: PairAnalysis['summary'],
): Ic50Value {
  const side = boundSide(s);
  const observed = s.observedLog10;
  // Given up beyond the doses run: all the data say is that the IC50 lies past the last of them.
  if (side && observed)
    return side === 'above'
      ? { micromolar: null, lowMicromolar: sig(Math.pow(10, observed.hi)), highMicromolar: null, supported: false }
      : { micromolar: null, lowMicromolar: null, highMicromolar: sig(Math.pow(10, observed.lo)), supported: false };
  return {
    micromolar: Number.isFinite(interval.median) ? sig(Math.pow(10, interval.median)) : null,
    lowMicromolar: endMicromolar(interval.lo, s.supportLog10),
    highMicromolar: endMicromolar(interval.hi, s.supportLog10),
    supported,
  };
}

function bound(v: Ic50Value): string | undefined {
  if (v.micromolar !== null) return undefined;
  if (v.lowMicromolar !== null && v.highMicromolar === null) return `IC50 > ${v.lowMicromolar} µM`;
  if (v.highMicromolar !== null && v.lowMicromolar === null) return `IC50 < ${v.highMicromolar} µM`;
  return undefined;
}

export function toEstimate(p: PairAnalysis): PairEstimate {
  const s = p.summary;
  const base: PairEstimate = {
    cellLine: s.cellLine,
    compound: s.compound,
    wells: s.wells,
    state: s.state,
    doseRangeMicromolar: { min: sig(Math.pow(10, s.rangeLog10.lo)), max: sig(Math.pow(10, s.rangeLog10.hi)) },
  };
  if (s.wells === 0) return { ...base, note: 'no data yet' };
  const relativeIc50 = ic50Value(s.log10Ic50, s.relativeSupported, s);
  // The absolute IC50 does not exist when the curve may never reach 50%: then it has no median.
  const absoluteIc50 = ic50Value(
    s.probAbsoluteExists < 0.5 ? { ...s.absoluteLog10Ic50, median: Infinity } : s.absoluteLog10Ic50,
    s.absoluteSupported,
    s,
  );
  const stated = bound(relativeIc50);
  return {
    ...base,
    ...(relativeIc50.micromolar !== null ? { ic50Micromolar: relativeIc50.micromolar } : {}),
    ...(relativeIc50.lowMicromolar !== null ? { ic50LowMicromolar: relativeIc50.lowMicromolar } : {}),
    ...(relativeIc50.highMicromolar !== null ? { ic50HighMicromolar: relativeIc50.highMicromolar } : {}),
    relativeIc50,
    absoluteIc50,
    ...(s.outOfRange ? { outOfRange: s.outOfRange } : {}),
    ...(s.stopReason ? { stopReason: s.stopReason } : {}),
    hillSlope: sig(s.hill.median),
    top: sig(s.top.median),
    bottom: sig(s.bottom.median),
    note: [stated, s.note].filter(Boolean).join('; '),
  };
}

export const bayesianProposer: BayesianProposer = createBayesianProposer();
