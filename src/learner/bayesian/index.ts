/**
 * The Bayesian dose-response learner: per-pair 4PL posteriors on a grid, objective-aware
 * acquisition and batch selection shared across pairs, and stopping. Pure TypeScript with no
 * Temporal imports; deterministic for a given seed.
 */
export { bayesianProposer, createBayesianProposer, toEstimate } from './bayesian-proposer';
export type { BayesianProposer, BayesianProposerOptions } from './bayesian-proposer';
export { analyseCampaign } from './analyse';
export type { CampaignAnalysis, PairAnalysis, PairSummary, Interval } from './analyse';
export { DEFAULT_PRIORS } from './priors';
export type { CurvePriorSpec } from './priors';
export { selectivityWindows } from './selectivity';
export type { SelectivityWindow } from './selectivity';
export { curveResponse, log10DoseForResponse, absoluteLog10Ic50 } from './four-pl';
export type { CurveParams } from './four-pl';
export { posteriorCurveBand } from './curve-band';
export type { CurveBandPoint } from './curve-band';
