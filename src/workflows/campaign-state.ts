import type { CampaignConfig } from '../config/campaign-config';
import type { CampaignState as CampaignLifecycle, CampaignResults, CampaignStatus } from '../domain/campaign-status';
import {
  campaignSpend,
  COST_CATEGORIES,
  costByCategory,
  experimentCostUsd,
  type CampaignSpend,
  type CompoundPricing,
  type CostCategory,
  type InstrumentTimings,
  plateCostUsd,
  WELLS_PER_PLATE,
  type WellSpend,
} from '../domain/costs';
import { type LabCatalogue, pricingByCompound } from '../domain/lab-catalogue';
import { normalisePlates } from '../domain/normalise';
import { ANSWERED_STATES, describePairStates } from '../domain/pair-states';
import type { ProposerSettings } from '../learner/proposer';
import type { ExperimentOutcome, Observation, PairEstimate, Proposal, WellLocation } from '../domain/types';
import { decodeOutcomePages, encodeOutcomePages, type OutcomeDerivation, type OutcomePage } from './outcome-pages';

/** Outcomes carried in a campaign's result (about 480 bytes each); a larger campaign's are read by page. */
export const RESULT_OUTCOMES = 250;

/**
 * Everything a campaign knows, as plain JSON so it crosses continue-as-new unchanged, plus the
 * decisions that grow with it (budget fitting, what the learner sees, the status a person reads).
 * No Temporal imports: unit-testable on its own, and the workflow file stays a thin loop.
 */
export interface CampaignSnapshot {
  /** Batches completed so far. */
  iteration: number;
  outcomes: ExperimentOutcome[];
  budgetUsd: number;
  paused: boolean;
  pauseReason: string;
  stopRequested: boolean;
  stopReason: string;
  estimates: PairEstimate[];
  /** Continue-as-new hand-overs so far. */
  runs: number;
  /** Prefix of plate ids, unique per campaign execution so a re-run never reuses a plate. */
  platePrefix: string;
  /** Outcomes before this index are ignored by the failure-rate check (a person resumed after them). */
  failureWindowStart: number;
  priorityKey: number;
  /** Treatments a person rejected: never proposed again. */
  rejected: { iteration: number; proposals: Proposal[]; reason: string }[];
  /** Proposal rounds so far (a rejected batch is re-proposed under a new id prefix). */
  proposalRounds: number;
  /** The lab's catalogue prices of the campaign's compounds, asked for once at the start. */
  pricing?: Record<string, CompoundPricing>;
  /** The lab's instrument timings, from the same catalogue: what instrument time is charged at. */
  instrumentTimings?: InstrumentTimings;
}

export interface RunningExperiment {
  proposal: Proposal;
  location: WellLocation;
  workflowId: string;
  committedUsd: number;
}

export class CampaignStateModel {
  readonly running = new Map<string, RunningExperiment>();
  /** The plate workflow of the batch now running (priority changes and stops go to it). */
  activePlateWorkflowId: string | undefined;
  /** Plates (or, in old histories, experiments) waiting for an offline instrument or missing stock: workflow id → what. */
  readonly waitingFor = new Map<string, { instrument: string; kind: 'instrument' | 'stock'; wells: number }>();
  lifecycle: CampaignLifecycle = 'running';
  detail = '';
  /** Completed-batch count the current estimates were computed from (-1: not yet in this run). */
  estimatesAtIteration = -1;
  /** A batch waiting for a person's approval, and their decision once given. */
  pendingBatch: Proposal[] | undefined;
  decision: { approved: true } | { approved: false; reason: string } | undefined;
  /** A manual step waiting for confirmation, and whether it came. */
  pendingAction: string | undefined;
  actionConfirmed = false;
  /** The plate the incubator has let in (set by the incubator's signal). */
  grantedPlate: string | undefined;
  /** The HTML report written when the campaign ended. */
  reportPath: string | undefined;

  constructor(
    readonly campaignId: string,
    readonly config: CampaignConfig,
    readonly snapshot: CampaignSnapshot,
  ) {}

  static fresh(campaignId: string, config: CampaignConfig, platePrefix: string): CampaignStateModel {
    return new CampaignStateModel(campaignId, config, {
      iteration: 0,
      outcomes: [],
      budgetUsd: config.budgetUsd,
      paused: false,
      pauseReason: '',
      stopRequested: false,
      stopReason: '',
      estimates: [],
      runs: 0,
      platePrefix,
      failureWindowStart: 0,
      priorityKey: config.priority,
      rejected: [],
      proposalRounds: 0,
    });
  }

  /** A run continued from the previous one: its snapshot, and its outcomes from the compact pages. */
  static handedOver(
    campaignId: string,
    config: CampaignConfig,
    snapshot: CampaignSnapshot,
    pages: OutcomePage[],
  ): CampaignStateModel {
    const state = new CampaignStateModel(campaignId, config, snapshot);
    // Snapshots from before the pages carry their outcomes inline; both add up to the same list.
    snapshot.outcomes = [...snapshot.outcomes, ...decodeOutcomePages(pages, state.derivation())];
    return state;
  }

  /** What the next run is handed: the snapshot without its outcomes, and the outcomes in pages. */
  handOver(): { snapshot: CampaignSnapshot; pages: OutcomePage[] } {
    const pages = encodeOutcomePages(this.snapshot.outcomes, this.derivation());
    return { snapshot: { ...this.snapshot, outcomes: [] }, pages };
  }

  /** The plate of a batch: unique per campaign execution, so a rerun never reuses one. */
  plateIdFor(iteration: number): string {
    return `${this.snapshot.platePrefix}-p${String(iteration).padStart(3, '0')}`;
  }

  private derivation(): OutcomeDerivation {
    return { workflowId: (proposalId) => `${this.campaignId}/${proposalId}`, plateId: (i) => this.plateIdFor(i) };
  }

  /**
   * The workflow's result. Outcomes are in it up to RESULT_OUTCOMES (a payload well under 256 KB);
   * a larger campaign's are read by page with the results query.
   */
  finalResults(): CampaignResults {
    const { outcomes } = this.snapshot;
    return outcomes.length <= RESULT_OUTCOMES
      ? { status: this.status(), outcomes }
      : { status: this.status(), outcomes: [], outcomesOmitted: outcomes.length };
  }

  /** The results query: all outcomes, or one page (`limit` from `offset`) with how many there are. */
  resultsPage(request: { offset?: number; limit?: number } | undefined): CampaignResults {
    const { outcomes } = this.snapshot;
    if (request === undefined) return { status: this.status(), outcomes };
    const offset = Math.max(0, Math.floor(request?.offset ?? 0));
    const limit = request?.limit === undefined ? outcomes.length : Math.max(0, Math.floor(request.limit));
    return { status: this.status(), outcomes: outcomes.slice(offset, offset + limit), totalOutcomes: outcomes.length };
  }

  /** What the lab's catalogue tells the campaign once, at its start: compound prices and instrument timings. */
  learnLab(catalogue: LabCatalogue): void {
    this.snapshot.pricing ??= pricingByCompound(catalogue);
    this.snapshot.instrumentTimings ??= catalogue.instrumentTimings;
  }

  /** Spend by the one cost model: the steps each well did, and the unused wells of every plate opened. */
  spend(): CampaignSpend {
    // Outcomes only grow (recordOutcome) or are replaced as a new list (normalising a plate): the
    // same list at the same length has the same spend, and status asks for it several times.
    const { outcomes } = this.snapshot;
    if (this.spendMemo?.outcomes !== outcomes || this.spendMemo.length !== outcomes.length) {
      const wells = outcomes.map((o) => this.wellSpend(o));
      this.spendMemo = {
        outcomes,
        length: outcomes.length,
        spend: campaignSpend(wells, this.snapshot.instrumentTimings),
      };
    }
    return this.spendMemo.spend;
  }

  private spendMemo: { outcomes: ExperimentOutcome[]; length: number; spend: CampaignSpend } | undefined;
  /** Each recorded well's cost by category, computed once per well (a large campaign has thousands). */
  private readonly wellCosts = new WeakMap<ExperimentOutcome, Record<CostCategory, number>>();

  get spentUsd(): number {
    return this.spend().totalUsd;
  }

  /** Spent, plus running experiments as if they finish, with the whole plates they are on. */
  get committedUsd(): number {
    const running = [...this.running.values()].map((r): WellSpend => ({
      proposal: r.proposal,
      location: r.location,
      completedSteps: ['seed', 'dose', 'measure'],
      pricing: this.pricingOf(r.proposal),
    }));
    const wells = [...this.snapshot.outcomes.map((o) => this.wellSpend(o)), ...running];
    return campaignSpend(wells, this.snapshot.instrumentTimings).totalUsd;
  }

  private wellSpend(o: ExperimentOutcome): WellSpend {
    let costs = this.wellCosts.get(o);
    if (!costs) {
      costs = this.stepsCost(o);
      this.wellCosts.set(o, costs);
    }
    return {
      proposal: o.proposal,
      location: o.location,
      completedSteps: o.completedSteps ?? [],
      pricing: this.pricingOf(o.proposal),
      costs,
    };
  }

  /** What the learner is told about the campaign's question (its config's design and goal). */
  learnerSettings(): ProposerSettings {
    const c = this.config;
    return {
      pairs: c.pairs,
      cellLines: c.cellLines,
      compounds: c.compounds,
      doseRange: c.doseRange,
      assay: c.assay,
      objective: c.objective,
      seed: c.seed,
      controlsPerLine: c.controlsPerLine,
      rangeExtensionFactor: c.rangeExtensionFactor,
      ...(c.maxWellsPerPair !== undefined ? { maxWellsPerPair: c.maxWellsPerPair } : {}),
    };
  }

  /** The lab's price of a compound (its catalogue's), for budgeting and spend by category. */
  pricingOf(p: Proposal): CompoundPricing | undefined {
    return p.isControl ? undefined : this.snapshot.pricing?.[p.compound];
  }

  costOf(p: Proposal): number {
    return experimentCostUsd(p.assay, p.doseMicromolar, this.pricingOf(p), this.snapshot.instrumentTimings);
  }

  // --- Commands from people (signal and update handlers call these; validators never change state) ---

  pause(reason: string | undefined): void {
    if (this.snapshot.stopRequested || this.snapshot.paused) return; // pausing twice is a no-op
    this.snapshot.paused = true;
    this.snapshot.pauseReason = reason ?? 'paused by operator';
  }

  resume(): void {
    if (!this.snapshot.paused) return; // resuming a running campaign is a no-op
    this.snapshot.paused = false;
    this.snapshot.pauseReason = '';
    // Failures a person has already looked at do not trip the alarm again.
    this.snapshot.failureWindowStart = this.snapshot.outcomes.length;
  }

  stop(reason: string | undefined): void {
    if (this.snapshot.stopRequested) return;
    this.snapshot.stopRequested = true;
    this.snapshot.stopReason = reason ?? 'stopped by operator';
  }

  /** Paused or stopping: nothing new may start. */
  get halted(): boolean {
    return this.snapshot.paused || this.snapshot.stopRequested;
  }

  setBudget(budgetUsd: number): { previousBudgetUsd: number; budgetUsd: number; spentUsd: number } {
    const previousBudgetUsd = this.snapshot.budgetUsd;
    this.snapshot.budgetUsd = budgetUsd;
    return { previousBudgetUsd, budgetUsd, spentUsd: this.status().spentUsd };
  }

  validatePriority(priorityKey: unknown): void {
    if (typeof priorityKey !== 'number' || !Number.isInteger(priorityKey) || priorityKey < 1 || priorityKey > 5)
      throw new Error(`priorityKey must be a whole number from 1 (highest) to 5 (lowest) (got ${String(priorityKey)})`);
    if (isTerminal(this.lifecycle)) throw new Error(`the campaign has already ended (${this.lifecycle})`);
  }

  setPriority(priorityKey: number): { previousPriorityKey: number; priorityKey: number } {
    const previousPriorityKey = this.snapshot.priorityKey;
    this.snapshot.priorityKey = priorityKey;
    return { previousPriorityKey, priorityKey };
  }

  validateDecision(): void {
    if (!this.pendingBatch || this.decision) throw new Error('no batch is waiting for approval');
  }

  approve(): { approvedWells: number } {
    this.decision = { approved: true };
    return { approvedWells: this.pendingBatch?.length ?? 0 };
  }

  validateRejection(reason: unknown): void {
    this.validateDecision();
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500)
      throw new Error('reason must say why the batch is rejected (1-500 characters)');
  }

  reject(reason: string): { rejectedWells: number } {
    this.decision = { approved: false, reason: reason.trim() };
    return { rejectedWells: this.pendingBatch?.length ?? 0 };
  }

  validateConfirmation(): void {
    if (!this.pendingAction || this.actionConfirmed) throw new Error('no manual step is waiting for confirmation');
  }

  confirm(): { confirmed: string } {
    this.actionConfirmed = true;
    return { confirmed: this.pendingAction ?? '' };
  }

  /** Records an experiment starting to wait (or ending its wait) for an instrument or stock. */
  noteWaiting(wait: {
    experimentWorkflowId: string;
    instrument: string;
    kind?: 'instrument' | 'stock';
    waiting: boolean;
    wells?: number;
  }): void {
    if (wait.waiting)
      this.waitingFor.set(wait.experimentWorkflowId, {
        instrument: wait.instrument,
        kind: wait.kind ?? 'instrument',
        wells: wait.wells ?? 1,
      });
    else this.waitingFor.delete(wait.experimentWorkflowId);
  }

  /**
   * The largest prefix of the proposed treatments (they come best-first) that fits the money left,
   * with the vehicle controls its lines need. Undefined when not even one treatment fits: the
   * campaign never commits spending beyond its budget.
   */
  fitToBudget(proposals: Proposal[]): Proposal[] | undefined {
    const treatments = proposals.filter((p) => !p.isControl);
    const controls = proposals.filter((p) => p.isControl);
    const available = this.snapshot.budgetUsd - this.committedUsd;
    for (let k = treatments.length; k >= 1; k--) {
      const chosen = treatments.slice(0, k);
      const lines = new Set(chosen.map((t) => t.cellLine));
      const batch = [...chosen, ...controls.filter((c) => lines.has(c.cellLine))];
      // A batch opens a plate of its own: the wells it leaves empty are paid for too.
      const emptyWells = Math.max(0, WELLS_PER_PLATE - batch.length);
      const plate = (plateCostUsd(batch[0]!.assay) * emptyWells) / WELLS_PER_PLATE;
      const cost = batch.reduce((s, p) => s + this.costOf(p), 0) + plate;
      if (cost <= available + 1e-9) return batch;
    }
    return undefined;
  }

  observations(): Observation[] {
    return this.snapshot.outcomes.flatMap((o) =>
      o.status === 'succeeded' && !o.proposal.isControl && o.normalisedResponse !== undefined
        ? [
            {
              cellLine: o.proposal.cellLine,
              compound: o.proposal.compound,
              doseMicromolar: o.proposal.doseMicromolar,
              response: o.normalisedResponse,
              plateId: o.location.plateId,
              iteration: o.iteration,
            },
          ]
        : [],
    );
  }

  /** Normalised vehicle wells: their scatter tells the learner how noisy wells are. */
  controlObservations(): Observation[] {
    return this.snapshot.outcomes.flatMap((o) =>
      o.status === 'succeeded' && o.proposal.isControl && o.normalisedResponse !== undefined
        ? [
            {
              cellLine: o.proposal.cellLine,
              compound: '',
              doseMicromolar: 0,
              response: o.normalisedResponse,
              plateId: o.location.plateId,
              iteration: o.iteration,
            },
          ]
        : [],
    );
  }

  /** Doses run, running or rejected; rejected ones are marked so they do not count toward a pair's well cap. */
  triedDoses(): { cellLine: string; compound: string; doseMicromolar: number; rejected?: boolean }[] {
    const done = [
      ...this.snapshot.outcomes.map((o) => o.proposal),
      ...[...this.running.values()].map((r) => r.proposal),
    ];
    const dose = (p: Proposal) => ({ cellLine: p.cellLine, compound: p.compound, doseMicromolar: p.doseMicromolar });
    return [
      ...done.filter((p) => !p.isControl).map(dose),
      ...this.snapshot.rejected
        .flatMap((r) => r.proposals)
        .filter((p) => !p.isControl)
        .map((p) => ({ ...dose(p), rejected: true })),
    ];
  }

  /** Records an ended experiment. A proposal is recorded once, whatever order results arrive in. */
  recordOutcome(outcome: ExperimentOutcome): void {
    this.running.delete(outcome.proposal.proposalId);
    this.waitingFor.delete(outcome.experimentWorkflowId);
    if (this.snapshot.outcomes.some((o) => o.proposal.proposalId === outcome.proposal.proposalId)) return;
    // The well's cost as the one cost model prices its steps done, at the lab's instrument timings.
    const costUsd =
      outcome.completedSteps === undefined
        ? outcome.costUsd
        : round6(Object.values(this.stepsCost(outcome)).reduce((s, v) => s + v, 0));
    this.snapshot.outcomes.push({ ...outcome, costUsd });
  }

  /** A batch has ended: its plate normalised to its vehicle controls, and the iteration counted. */
  endIteration(iteration: number): void {
    this.normaliseIteration(iteration);
    this.snapshot.iteration = iteration;
  }

  /** Why the campaign ends on its budget: what is spent, against the budget. */
  budgetExhaustedDetail(): string {
    const spent = this.status().spentUsd;
    return `$${spent.toFixed(2)} of $${this.snapshot.budgetUsd.toFixed(2)} spent; the next experiment does not fit`;
  }

  /** Normalise a finished batch to its plate's vehicle controls. */
  normaliseIteration(iteration: number): void {
    const batch = this.snapshot.outcomes.filter((o) => o.iteration === iteration);
    const normalised = new Map(normalisePlates(batch).map((o) => [o.proposal.proposalId, o]));
    this.snapshot.outcomes = this.snapshot.outcomes.map((o) => normalised.get(o.proposal.proposalId) ?? o);
  }

  status(): CampaignStatus {
    const outcomes = this.snapshot.outcomes;
    return {
      campaignId: this.campaignId,
      name: this.config.name,
      state: this.lifecycle,
      detail: this.detail,
      iteration: this.snapshot.iteration,
      maxIterations: this.config.maxIterations,
      experiments: {
        // Every well counts in done, running and failed alike; controls says how many done were vehicle wells.
        done: outcomes.filter((o) => o.status === 'succeeded').length,
        running: this.running.size,
        failed: outcomes.filter((o) => o.status === 'failed').length,
        controls: outcomes.filter((o) => o.proposal.isControl && o.status === 'succeeded').length,
      },
      spentUsd: round2(this.spentUsd),
      spentByCategory: this.spentByCategory(),
      committedUsd: round2(this.committedUsd),
      budgetUsd: this.snapshot.budgetUsd,
      paused: this.snapshot.paused,
      stopRequested: this.snapshot.stopRequested,
      estimates: this.snapshot.estimates,
      learnerSettings: this.learnerSettings(),
      runs: this.snapshot.runs,
      waitingFor: this.waitingInstruments(),
      priorityKey: this.snapshot.priorityKey,
      pendingBatch: this.pendingBatch,
      pendingAction: this.pendingAction,
      rejections: this.snapshot.rejected.map((r) => ({
        iteration: r.iteration,
        wells: r.proposals.length,
        reason: r.reason,
      })),
      secondsPerLabHour: this.config.secondsPerLabHour,
      ...(this.reportPath ? { reportPath: this.reportPath } : {}),
    };
  }

  /**
   * How the campaign ends, naming every pair's state: `goal reached` only when every pair is
   * answered (otherwise `completed`), and a pair still estimating records why it stopped short (the
   * budget, the iterations, a person's stop).
   */
  ending(lifecycle: CampaignLifecycle, detail: string): { lifecycle: CampaignLifecycle; detail: string } {
    const estimates = this.snapshot.estimates;
    const answered = estimates.length > 0 && estimates.every((e) => ANSWERED_STATES.has(e.state));
    const final = lifecycle === 'goal reached' && !answered ? 'completed' : lifecycle;
    const why = `${final}: ${detail}`;
    this.snapshot.estimates = estimates.map((e) =>
      e.state === 'estimating' && e.stopReason === undefined ? { ...e, stopReason: why } : e,
    );
    // A person's stop keeps their reason as the detail; the estimates still carry every pair's state.
    if (estimates.length === 0 || final === 'stopped') return { lifecycle: final, detail };
    const states = describePairStates(this.snapshot.estimates);
    return { lifecycle: final, detail: detail.includes('pairs: ') ? detail : `${detail}; ${states}` };
  }

  /**
   * Why the campaign should stop itself and ask for a person: the share of failed experiments since
   * the last resume has passed the configured threshold. Undefined while all is well.
   */
  failureAlarm(): string | undefined {
    const { maxFailureRate, minExperiments } = this.config.failurePause;
    const recent = this.snapshot.outcomes.slice(this.snapshot.failureWindowStart ?? 0);
    if (recent.length < minExperiments) return undefined;
    const failed = recent.filter((o) => o.status === 'failed');
    if (failed.length / recent.length <= maxFailureRate) return undefined;
    const types = [...new Set(failed.map((f) => f.failure?.type ?? 'unknown'))].join(', ');
    return `paused itself: ${failed.length} of ${recent.length} experiments failed (${types}), above the ${Math.round(maxFailureRate * 100)}% threshold; a person is needed — fix the cause, then resume`;
  }

  spentByCategory(): Record<CostCategory, number> {
    const { byCategory } = this.spend();
    return Object.fromEntries(COST_CATEGORIES.map((c) => [c, round2(byCategory[c])])) as Record<CostCategory, number>;
  }

  private stepsCost(o: ExperimentOutcome): Record<CostCategory, number> {
    const p = o.proposal;
    return costByCategory(
      p.assay,
      p.doseMicromolar,
      this.pricingOf(p),
      o.completedSteps ?? [],
      this.snapshot.instrumentTimings,
    );
  }

  /** Instruments experiments are waiting for, with how many wait on each. */
  waitingInstruments(): { instrument: string; kind: 'instrument' | 'stock'; experiments: number }[] {
    const counts = new Map<string, { instrument: string; kind: 'instrument' | 'stock'; experiments: number }>();
    for (const { wells, ...w } of this.waitingFor.values()) {
      const key = `${w.kind}:${w.instrument}`;
      counts.set(key, { ...w, experiments: (counts.get(key)?.experiments ?? 0) + wells });
    }
    return [...counts.values()];
  }

  /** Why a new budget is refused, or undefined if it is acceptable. */
  budgetProblem(budgetUsd: unknown): string | undefined {
    if (typeof budgetUsd !== 'number' || !Number.isFinite(budgetUsd))
      return `budgetUsd must be a finite number of USD (got ${String(budgetUsd)})`;
    if (budgetUsd < 0) return `budgetUsd must not be negative (got ${budgetUsd})`;
    if (budgetUsd > 1_000_000) return `budgetUsd must be at most 1000000 (got ${budgetUsd})`;
    if (budgetUsd < this.committedUsd - 1e-9)
      return `budgetUsd ${budgetUsd} is below what is already spent or committed to running experiments ($${this.committedUsd.toFixed(2)}); allowed: at least ${this.committedUsd.toFixed(2)}`;
    if (isTerminal(this.lifecycle)) return `the campaign has already ended (${this.lifecycle})`;
    return undefined;
  }
}

export function isTerminal(state: CampaignLifecycle): boolean {
  return !['running', 'paused', 'awaiting approval', 'waiting for a person'].includes(state);
}

function round6(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

function round2(usd: number): number {
  return Math.round(usd * 100) / 100;
}
