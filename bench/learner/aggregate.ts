import { GOAL_HALF_WIDTH, WELL_CAP, type CurveResult } from './arms';
import type { PortfolioResult } from './portfolio';

/**
 * Metrics, the printed table and the targets. Everything here is a pure function of the
 * per-curve results, which are ordered by (scenario, index), so a fixed seed gives the same table
 * (learner timings are reported separately because they depend on the machine).
 */

export interface ArmMetrics {
  scenario: string;
  arm: string;
  curves: number;
  wells: number;
  rounds: number;
  medianAbsError: number;
  rmse: number;
  shareBelow01: number;
  coverage95: number;
  meanWidth95: number;
  /** Mean wells to reach ±0.1, counting curves that never did as the 48-well cap. */
  wellsToGoalCensoredMean?: number;
  wellsToGoalMedian?: number;
  goalNotReached?: number;
  equivalentStandardWells: number;
  lsRmse: number;
  lsFailures: number;
  /** Bayesian fits that gave no finite estimate. */
  fitFailures: number;
}

export interface PortfolioMetrics {
  runs: number;
  pairsPerRun: number;
  meanTreatmentWells: number;
  maxTreatmentWells: number;
  standardTreatmentWells: number;
  meanRounds: number;
  allFinished: boolean;
  /** Runs that ended because the well budget (a third of the standard design) was spent. */
  budgetExhaustedRuns: number;
  activeAnswered: number;
  activeTotal: number;
  /** Active pairs wrongly given up (called inactive / out of range). */
  activeGivenUp: number;
  /** Inactive or out-of-range pairs correctly given up. */
  droppedCorrectly: number;
  droppedTotal: number;
  /** log10 IC50 RMSE over all active pairs, learner vs standard 8 × 3 (same Bayesian fit). */
  learnerRmseActive: number;
  standardRmseActive: number;
  learnerRmseAnswered: number;
  standardRmseAnswered: number;
  learnerCoverageActive: number;
  meanWellsActive: number;
  meanWellsDropped: number;
  /** Pairs that stopped at the well cap, over all runs. */
  wellCapped: number;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) / 2;
  return (s[Math.floor(h)]! + s[Math.ceil(h)]!) / 2;
}

const mean = (values: number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
const rms = (values: number[]): number => Math.sqrt(mean(values.map((v) => v * v)));

/** Wells the standard design would need for a given RMSE, interpolated in log-log between 8 × k points. */
export function equivalentStandardWells(rmse: number, standard: { wells: number; rmse: number }[]): number {
  const pts = [...standard].sort((a, b) => a.wells - b.wells);
  if (pts.length === 0 || !Number.isFinite(rmse) || rmse <= 0) return NaN;
  // RMSE falls like 1/√wells beyond the measured points.
  if (rmse >= pts[0]!.rmse) return pts[0]!.wells * (pts[0]!.rmse / rmse) ** 2;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    if (rmse >= b.rmse && a.rmse > b.rmse) {
      const t = (Math.log(a.rmse) - Math.log(rmse)) / (Math.log(a.rmse) - Math.log(b.rmse));
      return Math.exp(Math.log(a.wells) + t * (Math.log(b.wells) - Math.log(a.wells)));
    }
  }
  const last = pts[pts.length - 1]!;
  return last.wells * (last.rmse / rmse) ** 2;
}

export function armMetrics(results: CurveResult[]): ArmMetrics[] {
  const out: ArmMetrics[] = [];
  const scenarios = [...new Set(results.map((r) => r.scenario))];
  for (const scenario of scenarios) {
    const rs = results.filter((r) => r.scenario === scenario);
    const arms = rs[0]?.arms.map((a) => a.arm) ?? [];
    const rows = arms.map((arm) => {
      const scores = rs.map((r) => ({ truth: r.truth, a: r.arms.find((x) => x.arm === arm)! }));
      const errs = scores.map(({ truth, a }) => a.fit.median - truth.log10Ic50);
      const finite = errs.filter(Number.isFinite);
      const lsErrs = scores.map(({ truth, a }) => a.fit.lsLog10Ic50 - truth.log10Ic50);
      const hasGoal = arm.startsWith('standard') || arm.startsWith('oracle') || arm === 'learner-goal';
      const goal = scores.map(({ a }) => a.wellsToGoal);
      return {
        scenario,
        arm,
        curves: rs.length,
        wells: mean(scores.map(({ a }) => a.wells)),
        rounds: mean(scores.map(({ a }) => a.rounds)),
        medianAbsError: median(finite.map(Math.abs)),
        rmse: rms(finite),
        shareBelow01: finite.filter((e) => Math.abs(e) < 0.1).length / Math.max(1, finite.length),
        coverage95: mean(
          scores.map(({ truth, a }) => (truth.log10Ic50 >= a.fit.lo && truth.log10Ic50 <= a.fit.hi ? 1 : 0)),
        ),
        meanWidth95: mean(scores.map(({ a }) => a.fit.hi - a.fit.lo)),
        ...(hasGoal
          ? {
              wellsToGoalCensoredMean: mean(goal.map((g) => g ?? WELL_CAP)),
              wellsToGoalMedian: median(goal.map((g) => g ?? Infinity)),
              goalNotReached: goal.filter((g) => g === undefined).length,
            }
          : {}),
        equivalentStandardWells: NaN,
        lsRmse: rms(lsErrs),
        lsFailures: scores.filter(({ a }) => a.fit.lsFailed).length,
        fitFailures: errs.length - finite.length,
      } satisfies ArmMetrics;
    });
    const standard = rows.filter((r) => r.arm.startsWith('standard-8x')).map((r) => ({ wells: r.wells, rmse: r.rmse }));
    for (const r of rows) r.equivalentStandardWells = equivalentStandardWells(r.rmse, standard);
    out.push(...rows);
  }
  return out;
}

export function portfolioMetrics(runs: PortfolioResult[]): PortfolioMetrics {
  const pairs = runs.flatMap((r) => r.pairs);
  const active = pairs.filter((p) => p.kind === 'active');
  const dropped = pairs.filter((p) => p.kind !== 'active');
  const answered = active.filter((p) => p.state === 'answered');
  const err = (v: number, t: number) => v - t;
  return {
    runs: runs.length,
    pairsPerRun: runs[0]?.pairs.length ?? 0,
    meanTreatmentWells: mean(runs.map((r) => r.treatmentWells)),
    maxTreatmentWells: Math.max(...runs.map((r) => r.treatmentWells)),
    standardTreatmentWells: (runs[0]?.pairs.length ?? 0) * 24,
    meanRounds: mean(runs.map((r) => r.rounds)),
    allFinished: runs.every((r) => r.finished),
    budgetExhaustedRuns: runs.filter((r) => r.budgetExhausted).length,
    activeAnswered: answered.length,
    activeTotal: active.length,
    activeGivenUp: active.filter((p) => p.state === 'inactive' || p.state === 'out of range').length,
    droppedCorrectly: dropped.filter((p) => p.state === 'inactive' || p.state === 'out of range').length,
    droppedTotal: dropped.length,
    learnerRmseActive: rms(active.map((p) => err(p.learner.median, p.truthLog10Ic50))),
    standardRmseActive: rms(active.map((p) => err(p.standard.median, p.truthLog10Ic50))),
    learnerRmseAnswered: rms(answered.map((p) => err(p.learner.median, p.truthLog10Ic50))),
    standardRmseAnswered: rms(answered.map((p) => err(p.standard.median, p.truthLog10Ic50))),
    learnerCoverageActive: mean(
      active.map((p) => (p.truthLog10Ic50 >= p.learner.lo && p.truthLog10Ic50 <= p.learner.hi ? 1 : 0)),
    ),
    meanWellsActive: mean(active.map((p) => p.wells)),
    meanWellsDropped: mean(dropped.map((p) => p.wells)),
    wellCapped: pairs.filter((p) => p.state === 'well cap').length,
  };
}

export interface TargetCheck {
  name: string;
  holds: boolean;
  detail: string;
  /** How far a missed target is from its bound (in its own units), when it is a single number. */
  missedBy?: number;
}

export interface Timing {
  perfBatchMedianMs: number;
  perfBatchFirstMs: number;
  totalSeconds: number;
  learnerMsPerBatch: number;
  fullRun: boolean;
}

const f = (v: number | undefined, d = 3): string => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));

export function checkTargets(
  metrics: ArmMetrics[],
  portfolio: PortfolioMetrics | undefined,
  timing: Timing,
): TargetCheck[] {
  const get = (scenario: string, arm: string) => metrics.find((m) => m.scenario === scenario && m.arm === arm);
  const checks: TargetCheck[] = [];
  const std3 = get('base', 'standard-8x3');
  const l12 = get('base', 'learner-12');
  const l16 = get('base', 'learner-16');
  if (std3 && l12 && l16) {
    const holds = l16.rmse <= std3.rmse || l12.rmse <= std3.rmse;
    const best = l12.rmse <= std3.rmse ? l12 : l16;
    checks.push({
      name: 'base: the learner matches the RMSE of the 24-well standard design with at most 16 wells (aim 12)',
      holds,
      detail:
        `standard-8x3 RMSE ${f(std3.rmse)}; learner-12 ${f(l12.rmse)} (≈ ${f(l12.equivalentStandardWells, 1)} standard wells), ` +
        `learner-16 ${f(l16.rmse)} (≈ ${f(l16.equivalentStandardWells, 1)} standard wells)` +
        (holds
          ? `; met at ${best.arm.replace('learner-', '')} wells`
          : `; missed by ${f(l16.rmse - std3.rmse)} RMSE at 16 wells (${f((100 * (l16.rmse - std3.rmse)) / std3.rmse, 0)}%): ` +
            `medians ${f(l16.medianAbsError)} vs ${f(std3.medianAbsError)}, the tail is curves whose plateaus the adaptive doses leave unsure`),
    });
  }
  const lg = get('base', 'learner-goal');
  const or = get('base', 'oracle-12');
  if (lg && or && lg.wellsToGoalCensoredMean !== undefined && or.wellsToGoalCensoredMean !== undefined)
    checks.push({
      name: 'base: learner needs at most 1.3x the oracle wells to reach ±0.1',
      holds: lg.wellsToGoalCensoredMean <= 1.3 * or.wellsToGoalCensoredMean,
      detail: `mean wells to ±${GOAL_HALF_WIDTH} (not reached = ${WELL_CAP}): learner ${f(lg.wellsToGoalCensoredMean, 1)} vs oracle ${f(or.wellsToGoalCensoredMean, 1)} (ratio ${f(lg.wellsToGoalCensoredMean / or.wellsToGoalCensoredMean, 2)}); medians ${f(lg.wellsToGoalMedian, 0)} vs ${f(or.wellsToGoalMedian, 0)}`,
    });
  if (portfolio)
    checks.push({
      name: 'portfolio: total wells ≤ 1/3 of the standard design on every pair, at equal or better accuracy',
      holds:
        portfolio.maxTreatmentWells <= portfolio.standardTreatmentWells / 3 &&
        portfolio.learnerRmseActive <= portfolio.standardRmseActive,
      detail:
        `max ${portfolio.maxTreatmentWells} (mean ${f(portfolio.meanTreatmentWells, 0)}) treatment wells vs limit ${portfolio.standardTreatmentWells / 3} (the campaign's budget; ${portfolio.budgetExhaustedRuns} of ${portfolio.runs} runs spent it before every pair was settled); RMSE over active pairs learner ${f(portfolio.learnerRmseActive)} vs standard ${f(portfolio.standardRmseActive)}` +
        (portfolio.maxTreatmentWells > portfolio.standardTreatmentWells / 3
          ? `; over by ${portfolio.maxTreatmentWells - portfolio.standardTreatmentWells / 3} wells in the worst run (${portfolio.wellCapped} pairs ran to the well cap)`
          : '') +
        (portfolio.learnerRmseActive > portfolio.standardRmseActive
          ? `; RMSE worse by ${f(portfolio.learnerRmseActive - portfolio.standardRmseActive)}`
          : ''),
    });
  for (const scenario of ['base', 'harsh']) {
    const rows = metrics.filter((m) => m.scenario === scenario);
    if (rows.length === 0) continue;
    const pooled = mean(rows.map((r) => r.coverage95));
    const lgc = rows.find((r) => r.arm === 'learner-goal');
    checks.push({
      name: `${scenario}: 95% interval coverage between 0.93 and 0.97`,
      holds: pooled >= 0.93 && pooled <= 0.97,
      ...(pooled < 0.93 || pooled > 0.97 ? { missedBy: pooled < 0.93 ? 0.93 - pooled : pooled - 0.97 } : {}),
      detail: `mean over arms ${f(pooled)}; per arm ${rows.map((r) => `${r.arm} ${f(r.coverage95, 2)}`).join(', ')}${lgc ? '' : ''}`,
    });
  }
  checks.push({
    name: 'a 96-well batch from 2,000 observations over 64 pairs takes < 1 s',
    holds: timing.perfBatchMedianMs < 1000,
    detail: `median ${f(timing.perfBatchMedianMs, 0)} ms (first call ${f(timing.perfBatchFirstMs, 0)} ms)`,
  });
  if (timing.fullRun)
    checks.push({
      name: 'the full benchmark finishes in under 10 minutes',
      holds: timing.totalSeconds < 600,
      detail: `${f(timing.totalSeconds, 0)} s`,
    });
  return checks;
}

export function formatTable(metrics: ArmMetrics[], portfolio: PortfolioMetrics | undefined): string {
  const header = [
    'scenario',
    'arm',
    'n',
    'wells',
    'rounds',
    'med|err|',
    'RMSE',
    '<0.1',
    'cover95',
    'width95',
    'wells→±0.1',
    'not reached',
    'eq.std.wells',
    'LS RMSE',
    'LS fails',
  ];
  const rows = metrics.map((m) => [
    m.scenario,
    m.arm,
    String(m.curves),
    f(m.wells, 1),
    f(m.rounds, 1),
    f(m.medianAbsError),
    f(m.rmse),
    f(m.shareBelow01, 2),
    f(m.coverage95, 3),
    f(m.meanWidth95, 3),
    m.wellsToGoalCensoredMean === undefined
      ? ''
      : `${f(m.wellsToGoalCensoredMean, 1)} (med ${f(m.wellsToGoalMedian, 0)})`,
    m.goalNotReached === undefined ? '' : String(m.goalNotReached),
    f(m.equivalentStandardWells, 1),
    f(m.lsRmse),
    String(m.lsFailures),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  if (portfolio) {
    const p = portfolio;
    lines.push(
      '',
      `portfolio (${p.runs} runs × ${p.pairsPerRun} pairs, rounds of one 96-well plate):`,
      `  treatment wells: mean ${f(p.meanTreatmentWells, 0)}, max ${p.maxTreatmentWells} (standard 8x3 on every pair: ${p.standardTreatmentWells}); rounds ${f(p.meanRounds, 1)}; all finished: ${p.allFinished}; ended by the well budget (${p.standardTreatmentWells / 3}): ${p.budgetExhaustedRuns} of ${p.runs} runs`,
      `  active pairs answered ${p.activeAnswered}/${p.activeTotal}, wrongly given up ${p.activeGivenUp}; inactive/out-of-range pairs given up ${p.droppedCorrectly}/${p.droppedTotal}`,
      `  mean wells per pair: active ${f(p.meanWellsActive, 1)}, inactive/out of range ${f(p.meanWellsDropped, 1)}`,
      `  log10 IC50 RMSE, all active pairs: learner ${f(p.learnerRmseActive)} vs standard ${f(p.standardRmseActive)}; answered pairs: ${f(p.learnerRmseAnswered)} vs ${f(p.standardRmseAnswered)}; learner coverage ${f(p.learnerCoverageActive, 3)}`,
    );
  }
  return lines.join('\n');
}
