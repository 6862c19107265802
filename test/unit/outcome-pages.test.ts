import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExperimentOutcome } from '../../src/domain/types';
import {
  decodeOutcomePages,
  encodeOutcomePages,
  type OutcomePage,
  OUTCOMES_PER_PAGE,
} from '../../src/workflows/outcome-pages';

const derive = {
  workflowId: (proposalId: string) => `c-1/${proposalId}`,
  plateId: (iteration: number) => `c-run-p${String(iteration).padStart(3, '0')}`,
};

function outcome(i: number, over: Partial<ExperimentOutcome> = {}): ExperimentOutcome {
  const iteration = 1 + Math.floor(i / 96);
  const proposalId = `i${String(iteration).padStart(3, '0')}-e${i % 96}`;
  return {
    proposal: {
      proposalId,
      cellLine: ['U2OS', 'HEK293T'][i % 2]!,
      compound: i % 12 === 0 ? '' : 'staurosporine',
      doseMicromolar: i % 12 === 0 ? 0 : 10 ** (-3 + (i % 7) / 1.7),
      assay: 'viability',
      isControl: i % 12 === 0,
    },
    location: { plateId: derive.plateId(iteration), well: `B${(i % 10) + 2}` },
    experimentWorkflowId: derive.workflowId(proposalId),
    iteration,
    status: 'succeeded',
    readout: { assay: 'viability', signal: 12_345.678 + i / 7 },
    normalisedResponse: 0.5 + i / 100_003,
    costUsd: 1.234567,
    completedSteps: ['seed', 'dose', 'measure'],
    ...over,
  };
}

describe('outcome pages (the hand-over to the next run)', () => {
  it('gives back exactly the outcomes it was given, for generated outcomes of every shape', () => {
    const arbitraryOutcome = fc.record(
      {
        proposal: fc.record({
          proposalId: fc.string({ minLength: 1, maxLength: 12 }),
          cellLine: fc.string({ maxLength: 8 }),
          compound: fc.string({ maxLength: 8 }),
          doseMicromolar: fc.double({ noNaN: true, min: 0, max: 1e4 }),
          assay: fc.constantFrom('viability', 'reporter', 'imaging'),
          isControl: fc.boolean(),
        }),
        iteration: fc.integer({ min: 1, max: 2000 }),
        status: fc.constantFrom('succeeded', 'failed'),
        readout: fc.record(
          {
            assay: fc.constantFrom('viability', 'reporter', 'imaging'),
            signal: fc.double({ noNaN: true, noDefaultInfinity: true }),
            cellCount: fc.integer({ min: 0, max: 10_000 }),
            phenotypeScore: fc.double({ min: 0, max: 1, noNaN: true }),
          },
          { requiredKeys: ['assay', 'signal'] },
        ),
        normalisedResponse: fc.double({ noNaN: true, noDefaultInfinity: true }),
        failure: fc.record({ type: fc.string(), message: fc.string({ maxLength: 60 }) }),
        costUsd: fc.double({ min: 0, max: 1e4, noNaN: true }),
        completedSteps: fc.subarray(['seed', 'dose', 'measure']),
        well: fc.constantFrom('A1', 'B7', 'H12'),
        // Now and then an outcome the compact form cannot hold: another workflow id, a readout of another assay.
        otherWorkflowId: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
        otherReadoutAssay: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
      },
      { requiredKeys: ['proposal', 'iteration', 'status', 'costUsd', 'well', 'otherWorkflowId', 'otherReadoutAssay'] },
    );
    let compact = 0;
    let whole = 0;
    fc.assert(
      fc.property(fc.array(arbitraryOutcome, { maxLength: 40 }), (drawn) => {
        const outcomes = drawn.map(({ well, otherWorkflowId, otherReadoutAssay, ...o }) => {
          const readout = o.readout && !otherReadoutAssay ? { ...o.readout, assay: o.proposal.assay } : o.readout;
          const full = {
            ...o,
            ...(readout ? { readout } : {}),
            location: { plateId: derive.plateId(o.iteration), well },
            experimentWorkflowId: otherWorkflowId ? 'elsewhere' : derive.workflowId(o.proposal.proposalId),
          } as ExperimentOutcome;
          // What crosses a Temporal payload is JSON: compare what JSON would carry.
          return JSON.parse(JSON.stringify(full)) as ExperimentOutcome;
        });
        const pages = JSON.parse(JSON.stringify(encodeOutcomePages(outcomes, derive))) as OutcomePage[];
        for (const row of pages.flatMap((p) => p.rows)) {
          if (Array.isArray(row)) compact++;
          else whole++;
        }
        expect(decodeOutcomePages(pages, derive)).toEqual(outcomes);
      }),
      { seed: 20261202, numRuns: 300 },
    );
    // Both forms were exercised: most rows compact, the rest whole.
    expect(compact).toBeGreaterThan(whole);
    expect(whole).toBeGreaterThan(0);
  });

  it('keeps an outcome it cannot hold exactly whole, and an unknown field with it', () => {
    const odd = { ...outcome(5), extra: 'kept' } as ExperimentOutcome;
    const moved = outcome(6, { location: { plateId: 'another-plate', well: 'C3' } });
    const pages = encodeOutcomePages([outcome(4), odd, moved], derive);
    expect(pages[0]!.rows.map((r) => Array.isArray(r))).toEqual([true, false, false]);
    expect(decodeOutcomePages(pages, derive)).toEqual([outcome(4), odd, moved]);
  });

  it('splits 10,000 wells into pages that each stay far below 256 KB', () => {
    const outcomes = Array.from({ length: 10_000 }, (_, i) => outcome(i));
    const pages = encodeOutcomePages(outcomes, derive);
    expect(pages).toHaveLength(Math.ceil(10_000 / OUTCOMES_PER_PAGE));
    const sizes = pages.map((p) => JSON.stringify(p).length);
    expect(Math.max(...sizes)).toBeLessThan(256 * 1024);
    // Against the plain JSON: the compact form is several times smaller.
    expect(sizes.reduce((a, b) => a + b, 0) * 3).toBeLessThan(JSON.stringify(outcomes).length);
    expect(decodeOutcomePages(pages, derive)).toEqual(outcomes);
  });
});
