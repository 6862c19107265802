import type { ExperimentOutcome } from '../domain/types';

/**
 * A campaign's outcomes as compact pages, for the hand-over to its next run (continue-as-new).
 *
 * Every well's outcome stays in the campaign's state for the whole campaign (status, results, the
 * learner and the report read them), so each run hands all of them to the next. As plain JSON a
 * well is about 480 bytes, and a 10,000-well campaign's hand-over would be one 4.7 MB payload,
 * beyond Temporal's 2 MB limit. Pages keep each payload small: what can be derived (the experiment
 * workflow id, the plate id, key names) is left out, names and messages are stored once per page,
 * and each page is its own workflow argument. The form is exact: an outcome it cannot hold
 * unchanged (a field it does not know, a derived value that differs) is kept whole in its row.
 * No Temporal imports: the round trip is unit-tested on its own.
 */
export interface OutcomePage {
  /** Names, wells, step lists and failure texts the rows refer to by index. */
  strings: string[];
  /** One row per outcome, in order: the compact form, or the outcome itself. */
  rows: (CompactRow | ExperimentOutcome)[];
}

/** How a campaign derives the fields a page leaves out. */
export interface OutcomeDerivation {
  workflowId(proposalId: string): string;
  plateId(iteration: number): string;
}

/** Outcomes per page: about 120 bytes each in the compact form, so a page stays near 120 KB. */
export const OUTCOMES_PER_PAGE = 1_000;

type CompactRow = [
  proposalId: string,
  cellLine: number,
  compound: number,
  doseMicromolar: number,
  assay: number,
  isControl: 0 | 1,
  well: number,
  succeeded: 0 | 1,
  /** Index of the steps joined by commas, or -1 when the outcome does not say. */
  completedSteps: number,
  iteration: number,
  costUsd: number,
  /** [signal, cellCount, phenotypeScore, imageCount] (trailing absent ones left off), or 0 for none. */
  readout: (number | null)[] | 0,
  normalisedResponse: number | null,
  /** [type, message] as string indexes, or 0 for none. */
  failure: [number, number] | 0,
];

const OUTCOME_KEYS = new Set([
  'proposal',
  'location',
  'experimentWorkflowId',
  'status',
  'readout',
  'normalisedResponse',
  'failure',
  'costUsd',
  'completedSteps',
  'iteration',
]);
const PROPOSAL_KEYS = ['proposalId', 'cellLine', 'compound', 'doseMicromolar', 'assay', 'isControl'];
const READOUT_FIELDS = ['signal', 'cellCount', 'phenotypeScore', 'imageCount'] as const;

export function encodeOutcomePages(outcomes: ExperimentOutcome[], derive: OutcomeDerivation): OutcomePage[] {
  const pages: OutcomePage[] = [];
  for (let start = 0; start < outcomes.length; start += OUTCOMES_PER_PAGE) {
    const strings: string[] = [];
    const index = new Map<string, number>();
    const ref = (s: string): number => {
      let i = index.get(s);
      if (i === undefined) {
        i = strings.push(s) - 1;
        index.set(s, i);
      }
      return i;
    };
    const rows = outcomes.slice(start, start + OUTCOMES_PER_PAGE).map((o) => compactRow(o, derive, ref) ?? o);
    pages.push({ strings, rows });
  }
  return pages;
}

export function decodeOutcomePages(pages: OutcomePage[], derive: OutcomeDerivation): ExperimentOutcome[] {
  return pages.flatMap(({ strings, rows }) =>
    rows.map((row) => (Array.isArray(row) ? expandRow(row, strings, derive) : row)),
  );
}

function compactRow(
  o: ExperimentOutcome,
  derive: OutcomeDerivation,
  ref: (s: string) => number,
): CompactRow | undefined {
  const p = o.proposal;
  const exact =
    Object.keys(o).every((k) => OUTCOME_KEYS.has(k) && (o as unknown as Record<string, unknown>)[k] !== undefined) &&
    sameKeys(p, PROPOSAL_KEYS) &&
    sameKeys(o.location, ['plateId', 'well']) &&
    o.experimentWorkflowId === derive.workflowId(p.proposalId) &&
    o.location.plateId === derive.plateId(o.iteration) &&
    (o.status === 'succeeded' || o.status === 'failed') &&
    typeof p.isControl === 'boolean' &&
    [p.proposalId, p.cellLine, p.compound, p.assay, o.location.well].every((x) => typeof x === 'string') &&
    (o.completedSteps === undefined ||
      (Array.isArray(o.completedSteps) &&
        o.completedSteps.every((step: string) => typeof step === 'string' && step !== '' && !step.includes(',')))) &&
    [p.doseMicromolar, o.costUsd, o.iteration].every(plainNumber) &&
    (o.normalisedResponse === undefined || plainNumber(o.normalisedResponse)) &&
    (o.failure === undefined ||
      (sameKeys(o.failure, ['type', 'message']) &&
        typeof o.failure.type === 'string' &&
        typeof o.failure.message === 'string')) &&
    (o.readout === undefined || compactReadout(o) !== undefined);
  if (!exact) return undefined;
  return [
    p.proposalId,
    ref(p.cellLine),
    ref(p.compound),
    p.doseMicromolar,
    ref(p.assay),
    p.isControl ? 1 : 0,
    ref(o.location.well),
    o.status === 'succeeded' ? 1 : 0,
    o.completedSteps === undefined ? -1 : ref(o.completedSteps.join(',')),
    o.iteration,
    o.costUsd,
    o.readout === undefined ? 0 : compactReadout(o)!,
    o.normalisedResponse ?? null,
    o.failure === undefined ? 0 : [ref(o.failure.type), ref(o.failure.message)],
  ];
}

function expandRow(row: CompactRow, strings: string[], derive: OutcomeDerivation): ExperimentOutcome {
  const [proposalId, line, compound, dose, assay, isControl, well, succeeded, steps, iteration, costUsd] = row;
  const [, , , , , , , , , , , readout, normalised, failure] = row;
  const assayName = strings[assay] as ExperimentOutcome['proposal']['assay'];
  const outcome: ExperimentOutcome = {
    proposal: {
      proposalId,
      cellLine: strings[line]!,
      compound: strings[compound]!,
      doseMicromolar: dose,
      assay: assayName,
      isControl: isControl === 1,
    },
    location: { plateId: derive.plateId(iteration), well: strings[well]! },
    experimentWorkflowId: derive.workflowId(proposalId),
    iteration,
    status: succeeded === 1 ? 'succeeded' : 'failed',
    costUsd,
  };
  if (readout !== 0) {
    outcome.readout = { assay: assayName, signal: readout[0]! };
    READOUT_FIELDS.forEach((field, i) => {
      if (i > 0 && readout[i] !== undefined && readout[i] !== null) outcome.readout![field] = readout[i]!;
    });
  }
  if (failure !== 0) outcome.failure = { type: strings[failure[0]]!, message: strings[failure[1]]! };
  if (steps >= 0) {
    const joined = strings[steps]!;
    outcome.completedSteps = (joined === '' ? [] : joined.split(',')) as ExperimentOutcome['completedSteps'];
  }
  if (normalised !== null) outcome.normalisedResponse = normalised;
  return outcome;
}

/** The readout's numbers, when the compact form holds it exactly (its assay is the proposal's). */
function compactReadout(o: ExperimentOutcome): (number | null)[] | undefined {
  const r = o.readout!;
  if (r.assay !== o.proposal.assay || !plainNumber(r.signal)) return undefined;
  const extra = Object.keys(r).filter((k) => k !== 'assay' && k !== 'signal');
  if (!extra.every((k) => (READOUT_FIELDS as readonly string[]).includes(k) && plainNumber(r[k as 'cellCount'])))
    return undefined;
  const values = READOUT_FIELDS.map((f) => (r[f] === undefined ? null : r[f]!));
  while (values.length > 1 && values[values.length - 1] === null) values.pop();
  return values;
}

function sameKeys(value: object, keys: string[]): boolean {
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((k) => own.includes(k) && typeof value[k as never] !== 'undefined');
}

/** A number JSON carries exactly (not NaN, ±Infinity or -0). */
function plainNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && !Object.is(x, -0);
}
