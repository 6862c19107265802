import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/client/cli';
import {
  NO_VEHICLE,
  csvCell,
  formatEstimates,
  formatEstimatesTable,
  formatResults,
  resultsCsv,
  resultsPrism,
  shortNote,
} from '../../src/client/format';
import type { CampaignResults } from '../../src/domain/campaign-status';
import type { ExperimentOutcome, PairEstimate } from '../../src/domain/types';
import { estimatesCsv, estimatesTable } from '../../src/report/estimates';
import { campaignFixture, FIXTURE_SETTINGS } from '../report/fixture';

const range = { minMicromolar: 0.001, maxMicromolar: 10 };

describe('results --estimates', () => {
  const results = campaignFixture();
  const t = estimatesTable(results, { settings: FIXTURE_SETTINGS, samples: 256 });

  it('gives every pair structured relative and absolute IC50 fields with finite intervals inside the range', () => {
    expect(t.rows).toHaveLength(6);
    const row = t.rows.find((r) => r.cellLine === 'U2OS' && r.compound === 'staurosporine')!;
    expect(row.state).toBe('answered');
    expect(row.relativeIc50!.micromolar).toBeGreaterThan(0.1);
    expect(row.relativeIc50!.lowMicromolar).toBeLessThan(row.relativeIc50!.micromolar!);
    expect(row.relativeIc50!.highMicromolar).toBeGreaterThan(row.relativeIc50!.micromolar!);
    expect(row.absoluteIc50!.micromolar).toBeGreaterThan(0.1);
    expect(row.absoluteIc50!.probabilityReached).toBeGreaterThan(0.5);
  });

  it('writes an interval end beyond the range as null in JSON and >x / <x in text, never 0', () => {
    // Shift the question: with a range whose minimum is above every IC50, the low end is unbounded.
    const shifted = estimatesTable(results, {
      settings: { ...FIXTURE_SETTINGS, doseRange: { minMicromolar: 0.2, maxMicromolar: 0.3 } },
      samples: 128,
    });
    const hek = shifted.rows.find((r) => r.cellLine === 'HEK293T' && r.compound === 'staurosporine')!;
    expect(hek.relativeIc50!.lowMicromolar).toBeNull();
    expect(hek.relativeIc50!.micromolar).toBeNull();
    expect(hek.relativeIc50!.text).toBe('<0.2');
    expect(hek.relativeIc50!.intervalText).toMatch(/^<0\.2–/);
    const json = JSON.stringify(shifted);
    expect(json).not.toMatch(/"(low|high)Micromolar":0[,}]/);
    expect(formatEstimatesTable(shifted)).toMatch(/HEK293T\s+staurosporine\s+\S+\s+\d+\s+<0\.2/);
  });

  it('as CSV: numeric columns empty where unbounded, the text beside them', () => {
    const csv = estimatesCsv(t, csvCell).split('\n');
    expect(csv[0]).toMatch(/^cellLine,compound,state,wells,relativeIc50Micromolar,relativeLowMicromolar/);
    expect(csv).toHaveLength(7);
    expect(csv[1]).toMatch(/^U2OS,staurosporine,answered,7,0\.\d+,0\.\d+,0\.\d+,/);
  });

  it('parses --estimates with --json, --csv or --format, and refuses prism for estimates', () => {
    expect(parseCommand(['results', 'demo', '--estimates', '--json']).flags).toMatchObject({
      estimates: true,
      format: 'json',
    });
    expect(parseCommand(['results', 'demo', '--format', 'prism']).flags.format).toBe('prism');
    expect(parseCommand(['results', 'demo']).flags.format).toBe('table');
    expect(() => parseCommand(['results', 'demo', '--estimates', '--format', 'prism'])).toThrow(
      /leave out --estimates/,
    );
    expect(() => parseCommand(['results', 'demo', '--format', 'xlsx'])).toThrow(/allowed: table, csv, json, prism/);
    expect(() => parseCommand(['results', 'demo', '--json', '--format', 'csv'])).toThrow(/choose one/);
  });
});

describe('status estimates', () => {
  const estimate: PairEstimate = {
    cellLine: 'U2OS',
    compound: 'staurosporine',
    wells: 6,
    state: 'estimating',
    ic50Micromolar: 0.3,
    ic50LowMicromolar: 0.16,
    ic50HighMicromolar: 0,
    note: 'stopped: ±0.14 after 19 wells, the goal is out of reach within 24; absolute IC50 7.3 µM [6.29, 8.5]; more',
  };

  it('never prints an unbounded interval end as 0', () => {
    const text = formatEstimates([estimate], range);
    expect(text).toContain('0.16–>10');
    expect(text).not.toMatch(/0\.16–0\b/);
    expect(
      formatEstimates([{ ...estimate, ic50LowMicromolar: undefined, ic50HighMicromolar: Infinity }], range),
    ).toContain('<0.001–>10');
  });

  it('keeps notes short in the table (the full reasoning stays in --json)', () => {
    const text = formatEstimates([estimate], range);
    expect(text).not.toContain('absolute IC50 7.3');
    expect(shortNote(estimate.note)!.length).toBeLessThanOrEqual(60);
    expect(shortNote('IC50 below the tested range')).toBe('IC50 below the tested range');
  });
});

describe('wells as Prism reads them and wells without a vehicle control', () => {
  const results = campaignFixture();

  it('puts dose in X and one Y column per pair, replicates side by side', () => {
    const lines = resultsPrism(results).split('\n');
    const header = lines[0]!.split(',');
    expect(header[0]).toBe('Dose (µM)');
    const pairs = [...new Set(header.slice(1))];
    expect(pairs).toHaveLength(6);
    const replicates = (header.length - 1) / pairs.length;
    expect(Number.isInteger(replicates)).toBe(true);
    // Every pair's subcolumns are adjacent.
    for (const p of pairs) {
      const at = header.map((h, i) => (h === p ? i : -1)).filter((i) => i > 0);
      expect(at.at(-1)! - at[0]!).toBe(replicates - 1);
    }
    const doses = lines.slice(1).map((l) => Number(l.split(',')[0]));
    expect(doses).toEqual([...doses].sort((a, b) => a - b));
    const usable = results.outcomes.filter(
      (o) => !o.proposal.isControl && o.status === 'succeeded' && o.normalisedResponse !== undefined,
    );
    const filled = lines.slice(1).flatMap((l) =>
      l
        .split(',')
        .slice(1)
        .filter((c) => c !== ''),
    );
    expect(filled).toHaveLength(usable.length);
  });

  it('says a read well had no usable vehicle control instead of "-"', () => {
    const first = results.outcomes.find((o) => !o.proposal.isControl && o.status === 'succeeded')!;
    const orphan: ExperimentOutcome = { ...first, normalisedResponse: undefined };
    const r: CampaignResults = { ...results, outcomes: [orphan] };
    expect(formatResults(r)).toContain(NO_VEHICLE);
    expect(resultsCsv(r).split('\n')[1]).toContain(NO_VEHICLE);
  });
});
