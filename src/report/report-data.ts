import type { Objective } from '../config/campaign-config';
import type { CampaignResults, CampaignStatus } from '../domain/campaign-status';
import { COST_CATEGORIES, type CostCategory } from '../domain/costs';
import type { Assay, ExperimentOutcome, Observation, PairEstimate } from '../domain/types';
import { pairKey } from '../domain/types';
import {
  createBayesianProposer,
  posteriorCurveBand,
  type CampaignAnalysis,
  type CurveBandPoint,
  type Interval,
} from '../learner/bayesian/index';
import type { ProposerSettings } from '../learner/proposer';
import type { DoseRange } from './format';
import { mean, plateQc, sampleSd, type PlateQc } from './plate-qc';

/**
 * Everything the report shows, computed from a campaign's results alone: plain data, no HTML.
 * Curves come from the project's Bayesian learner, refitted here from the outcomes' observations
 * exactly as the campaign activity feeds it (treatment and vehicle observations, tried doses,
 * the upcoming iteration number), once per iteration on the wells known by then, so the last
 * refit is the campaign's final fit and the earlier ones show how the intervals narrowed.
 *
 * CampaignResults does not carry the learner's settings (dose range, objective, seed, controls
 * per line). They are inferred from the wells unless the caller passes them; `inferred` says
 * which were, because an inferred dose range shifts the priors slightly from the campaign's.
 */

export interface ReportOptions {
  /** Learner settings to refit with; fields left out are inferred from the results. */
  settings?: Partial<ProposerSettings>;
  /** Posterior samples per pair for the curve band (default 512, the learner's default). */
  samples?: number;
  /** Points along the dose axis at which the curve band is drawn (default 121). */
  curvePoints?: number;
  /** Shown as the report's time; pass one for reproducible output (default: now). */
  generatedAt?: string;
}

export interface WellPoint {
  proposalId: string;
  doseMicromolar: number;
  response: number;
  plateId: string;
  well: string;
  iteration: number;
}

export interface VehicleBand {
  wells: number;
  mean: number;
  /** Sample SD; 0 with a single vehicle well. */
  sd: number;
  lo: number;
  hi: number;
}

/** The refitted posterior of one pair. Intervals are in log10 µM, as in the learner. */
export interface PairFit {
  band: CurveBandPoint[];
  relativeLog10: Interval;
  absoluteLog10: Interval;
  relativeSupported: boolean;
  absoluteSupported: boolean;
  probAbsoluteExists: number;
  top: number;
  bottom: number;
  hill: number;
  state: string;
  note: string;
}

export interface NarrowingPoint {
  /** Refit on the wells of iterations 1..iteration. */
  iteration: number;
  wells: number;
  loLog10: number;
  hiLog10: number;
  /** 95% interval width of log10 relative IC50. */
  widthLog10: number;
}

export interface PairReport {
  key: string;
  cellLine: string;
  compound: string;
  /** The campaign's own estimate (CampaignStatus.estimates), when it has one for this pair. */
  estimate?: PairEstimate;
  points: WellPoint[];
  /** Treatment wells of this pair that failed or could not be normalised. */
  lostWells: number;
  vehicle?: VehicleBand;
  fit?: PairFit;
  narrowing: NarrowingPoint[];
}

export interface FailedWell {
  proposalId: string;
  iteration: number;
  plateId: string;
  well: string;
  cellLine: string;
  /** Empty for a vehicle well. */
  compound: string;
  doseMicromolar: number;
  isControl: boolean;
  reason: string;
  message: string;
  completedSteps: string[];
  costUsd: number;
}

export interface SpendSummary {
  totalUsd: number;
  budgetUsd: number;
  byCategory: { category: CostCategory; usd: number }[];
  /** From the wells' own costs: what went to treatments, vehicle controls and wells that failed. */
  treatmentUsd: number;
  vehicleUsd: number;
  failedUsd: number;
}

export interface CampaignReport {
  generatedAt: string;
  status: CampaignStatus;
  settings: ProposerSettings;
  /** Settings fields that were inferred from the results rather than given. */
  inferred: (keyof ProposerSettings)[];
  doseRange: DoseRange;
  /** The x-axis of the dose-response plots, log10 µM. */
  plotDomainLog10: { lo: number; hi: number };
  pairs: PairReport[];
  plates: PlateQc[];
  failures: FailedWell[];
  spend: SpendSummary;
  wells: { total: number; treatments: number; vehicle: number; failed: number; notNormalised: number };
}

const DEFAULT_OBJECTIVE: Objective = { type: 'ic50', halfWidthLog10: 0.1 };
const PLOT_PAD_LOG10 = 0.3;

function usable(o: ExperimentOutcome): boolean {
  return o.status === 'succeeded' && o.normalisedResponse !== undefined;
}

function observation(o: ExperimentOutcome): Observation {
  return {
    cellLine: o.proposal.cellLine,
    compound: o.proposal.isControl ? '' : o.proposal.compound,
    doseMicromolar: o.proposal.doseMicromolar,
    response: o.normalisedResponse!,
    plateId: o.location.plateId,
    iteration: o.iteration,
  };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** Learner settings: the caller's, else what the results show. */
export function inferSettings(
  results: CampaignResults,
  given: Partial<ProposerSettings> = {},
): { settings: ProposerSettings; inferred: (keyof ProposerSettings)[] } {
  const treatments = results.outcomes.filter((o) => !o.proposal.isControl && o.proposal.doseMicromolar > 0);
  const fromEstimates = results.status.estimates;
  const doses = treatments.map((o) => o.proposal.doseMicromolar);
  const controlsPerPlateLine = new Map<string, number>();
  for (const o of results.outcomes)
    if (o.proposal.isControl) {
      const k = `${o.location.plateId}|${o.proposal.cellLine}`;
      controlsPerPlateLine.set(k, (controlsPerPlateLine.get(k) ?? 0) + 1);
    }
  // A campaign's status names its learner's settings; older results do not, and are inferred.
  given = { ...results.status.learnerSettings, ...given };
  const inferred: ProposerSettings = {
    ...(fromEstimates.length > 0
      ? { pairs: fromEstimates.map((e) => ({ cellLine: e.cellLine, compound: e.compound })) }
      : {}),
    cellLines: unique([...fromEstimates.map((e) => e.cellLine), ...treatments.map((o) => o.proposal.cellLine)]),
    compounds: unique([...fromEstimates.map((e) => e.compound), ...treatments.map((o) => o.proposal.compound)]),
    doseRange:
      doses.length > 0
        ? { minMicromolar: Math.min(...doses), maxMicromolar: Math.max(...doses) }
        : { minMicromolar: 0.001, maxMicromolar: 10 },
    assay: (results.outcomes[0]?.proposal.assay ?? 'viability') as Assay,
    objective: DEFAULT_OBJECTIVE,
    seed: 0,
    controlsPerLine: Math.max(1, ...controlsPerPlateLine.values()),
  };
  const keys = Object.keys(inferred) as (keyof ProposerSettings)[];
  return {
    settings: { ...inferred, ...given },
    inferred: keys.filter((k) => given[k] === undefined),
  };
}

/** Refit every pair on the wells of iterations ≤ k, for each iteration k that has wells. */
function refits(
  results: CampaignResults,
  settings: ProposerSettings,
  samples: number,
): { iteration: number; analysis: CampaignAnalysis }[] {
  const learner = createBayesianProposer({ samples });
  const iterations = unique(results.outcomes.filter((o) => !o.proposal.isControl).map((o) => o.iteration)).sort(
    (a, b) => a - b,
  );
  return iterations.map((k) => {
    const known = results.outcomes.filter((o) => o.iteration <= k);
    const analysis = learner.analyse({
      settings,
      observations: known.filter((o) => !o.proposal.isControl && usable(o)).map(observation),
      controlObservations: known.filter((o) => o.proposal.isControl && usable(o)).map(observation),
      triedDoses: known
        .filter((o) => !o.proposal.isControl)
        .map((o) => ({
          cellLine: o.proposal.cellLine,
          compound: o.proposal.compound,
          doseMicromolar: o.proposal.doseMicromolar,
        })),
      // The campaign asks for batch k+1 with the results of 1..k: the same iteration seeds the
      // same posterior draws, so with the campaign's settings the last refit is its final fit.
      iteration: k + 1,
      maxTreatments: 0,
      idPrefix: 'report',
    });
    return { iteration: k, analysis };
  });
}

function vehicleBand(outcomes: readonly ExperimentOutcome[], cellLine: string): VehicleBand | undefined {
  const values = outcomes
    .filter((o) => o.proposal.isControl && o.proposal.cellLine === cellLine && usable(o))
    .map((o) => o.normalisedResponse!);
  const m = mean(values);
  if (m === undefined) return undefined;
  const sd = sampleSd(values) ?? 0;
  return { wells: values.length, mean: m, sd, lo: m - 2 * sd, hi: m + 2 * sd };
}

function spendSummary(results: CampaignResults): SpendSummary {
  const byCategory = COST_CATEGORIES.map((category) => ({
    category,
    usd: results.status.spentByCategory?.[category] ?? 0,
  }));
  const sum = (pred: (o: ExperimentOutcome) => boolean) =>
    results.outcomes.filter(pred).reduce((s, o) => s + o.costUsd, 0);
  return {
    totalUsd: results.status.spentUsd,
    budgetUsd: results.status.budgetUsd,
    byCategory,
    treatmentUsd: sum((o) => !o.proposal.isControl),
    vehicleUsd: sum((o) => o.proposal.isControl),
    failedUsd: sum((o) => o.status === 'failed'),
  };
}

function failedWells(outcomes: readonly ExperimentOutcome[]): FailedWell[] {
  return outcomes
    .filter((o) => o.status === 'failed' || o.normalisedResponse === undefined)
    .map((o) => ({
      proposalId: o.proposal.proposalId,
      iteration: o.iteration,
      plateId: o.location.plateId,
      well: o.location.well,
      cellLine: o.proposal.cellLine,
      compound: o.proposal.compound,
      doseMicromolar: o.proposal.doseMicromolar,
      isControl: o.proposal.isControl,
      reason: o.status === 'failed' ? (o.failure?.type ?? 'failed') : 'not normalised',
      message:
        o.status === 'failed'
          ? (o.failure?.message ?? '')
          : 'read, but the plate had no usable vehicle well for this line, so the learner never saw it',
      completedSteps: o.completedSteps ?? [],
      costUsd: o.costUsd,
    }));
}

/** Build the report's data: refits, plate QC, spend and failures. Pure and deterministic for fixed options. */
export function buildCampaignReport(results: CampaignResults, options: ReportOptions = {}): CampaignReport {
  const { settings, inferred } = inferSettings(results, options.settings);
  const samples = options.samples ?? 512;
  const curvePoints = Math.max(2, options.curvePoints ?? 121);
  const range = settings.doseRange;
  const plotDomainLog10 = {
    lo: Math.log10(range.minMicromolar) - PLOT_PAD_LOG10,
    hi: Math.log10(range.maxMicromolar) + PLOT_PAD_LOG10,
  };
  const xs = Array.from(
    { length: curvePoints },
    (_, i) => plotDomainLog10.lo + ((plotDomainLog10.hi - plotDomainLog10.lo) * i) / (curvePoints - 1),
  );
  const fits = settings.cellLines.length > 0 && settings.compounds.length > 0 ? refits(results, settings, samples) : [];
  const final = fits.at(-1)?.analysis;

  const pairs: PairReport[] = settings.cellLines.flatMap((cellLine) =>
    settings.compounds.map((compound): PairReport => {
      const key = pairKey(cellLine, compound);
      const mine = results.outcomes.filter(
        (o) => !o.proposal.isControl && o.proposal.cellLine === cellLine && o.proposal.compound === compound,
      );
      const points = mine.filter(usable).map((o) => ({
        proposalId: o.proposal.proposalId,
        doseMicromolar: o.proposal.doseMicromolar,
        response: o.normalisedResponse!,
        plateId: o.location.plateId,
        well: o.location.well,
        iteration: o.iteration,
      }));
      const estimate = results.status.estimates.find((e) => e.cellLine === cellLine && e.compound === compound);
      const analysed = final?.pairs.find((p) => p.key === key);
      const fit: PairFit | undefined =
        analysed && analysed.summary.wells > 0
          ? {
              band: posteriorCurveBand(analysed.posterior.samples, xs),
              relativeLog10: analysed.summary.log10Ic50,
              absoluteLog10: analysed.summary.absoluteLog10Ic50,
              relativeSupported: analysed.summary.relativeSupported,
              absoluteSupported: analysed.summary.absoluteSupported,
              probAbsoluteExists: analysed.summary.probAbsoluteExists,
              top: analysed.summary.top.median,
              bottom: analysed.summary.bottom.median,
              hill: analysed.summary.hill.median,
              state: analysed.summary.state,
              note: analysed.summary.note,
            }
          : undefined;
      const narrowing = fits.flatMap(({ iteration, analysis }) => {
        const s = analysis.pairs.find((p) => p.key === key)?.summary;
        if (!s || s.wells === 0) return [];
        const { lo, hi } = s.log10Ic50;
        return [{ iteration, wells: s.wells, loLog10: lo, hiLog10: hi, widthLog10: hi - lo }];
      });
      const vehicle = vehicleBand(results.outcomes, cellLine);
      return {
        key,
        cellLine,
        compound,
        ...(estimate ? { estimate } : {}),
        points,
        lostWells: mine.length - points.length,
        ...(vehicle ? { vehicle } : {}),
        ...(fit ? { fit } : {}),
        narrowing,
      };
    }),
  );

  const failures = failedWells(results.outcomes);
  return {
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    status: results.status,
    settings,
    inferred,
    doseRange: range,
    plotDomainLog10,
    pairs,
    plates: plateQc(results.outcomes),
    failures,
    spend: spendSummary(results),
    wells: {
      total: results.outcomes.length,
      treatments: results.outcomes.filter((o) => !o.proposal.isControl).length,
      vehicle: results.outcomes.filter((o) => o.proposal.isControl).length,
      failed: results.outcomes.filter((o) => o.status === 'failed').length,
      notNormalised: results.outcomes.filter((o) => o.status === 'succeeded' && o.normalisedResponse === undefined)
        .length,
    },
  };
}
