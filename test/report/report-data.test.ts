import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CampaignResults } from '../../src/domain/campaign-status';
import { buildCampaignReport, inferSettings, renderReport } from '../../src/report/index';
import { FIXED_TIME, FIXTURE_SETTINGS, campaignFixture } from './fixture';

const results = campaignFixture();
const sig = (log10: number) => Number((10 ** log10).toPrecision(3));

describe('the report data of a recorded campaign', () => {
  const report = buildCampaignReport(results, { settings: FIXTURE_SETTINGS, generatedAt: FIXED_TIME });

  it('refits to exactly the campaign’s final estimates when given the campaign’s settings', () => {
    expect(report.pairs).toHaveLength(results.status.estimates.length);
    for (const pair of report.pairs) {
      const est = pair.estimate!;
      const rel = pair.fit!.relativeLog10;
      expect([sig(rel.lo), sig(rel.median), sig(rel.hi)]).toEqual([
        est.ic50LowMicromolar,
        est.ic50Micromolar,
        est.ic50HighMicromolar,
      ]);
    }
  });

  it('has a curve band across the plot and the pair’s successful wells as points', () => {
    for (const pair of report.pairs) {
      const wells = results.outcomes.filter(
        (o) =>
          !o.proposal.isControl &&
          o.proposal.cellLine === pair.cellLine &&
          o.proposal.compound === pair.compound &&
          o.normalisedResponse !== undefined,
      );
      expect(pair.points).toHaveLength(wells.length);
      expect(pair.fit!.band).toHaveLength(121);
      for (const b of pair.fit!.band) expect(b.lo <= b.median && b.median <= b.hi).toBe(true);
      expect(pair.vehicle!.wells).toBeGreaterThanOrEqual(2);
    }
  });

  it('narrows: one refit per iteration with wells, ending at the final interval', () => {
    for (const pair of report.pairs) {
      const n = pair.narrowing;
      expect(n.length).toBeGreaterThan(1);
      expect(n.map((p) => p.wells)).toEqual([...n.map((p) => p.wells)].sort((a, b) => a - b));
      expect(n.at(-1)!.widthLog10).toBeCloseTo(pair.fit!.relativeLog10.hi - pair.fit!.relativeLog10.lo, 12);
      expect(n.at(-1)!.widthLog10).toBeLessThan(n[0]!.widthLog10);
    }
  });

  it('lists every failed well with its reason and a QC row per plate', () => {
    const failed = results.outcomes.filter((o) => o.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(report.failures.map((f) => f.proposalId)).toEqual(failed.map((o) => o.proposal.proposalId));
    expect(report.failures.every((f) => f.reason === 'Contamination')).toBe(true);
    const plates = new Set(results.outcomes.map((o) => o.location.plateId));
    expect(report.plates.map((p) => p.plateId)).toEqual([...plates]);
    for (const p of report.plates) expect(p.zPrime).toBeDefined();
  });

  it('says which learner settings it had to infer', () => {
    expect(report.inferred).not.toContain('seed');
    expect(inferSettings(results).inferred).toEqual(expect.arrayContaining(['seed', 'doseRange', 'objective']));
    expect(inferSettings(results).settings.doseRange).toEqual(FIXTURE_SETTINGS.doseRange);
  });
});

describe('the report of a real demo run (cellos results --json of examples/demo.yaml)', () => {
  const demo = JSON.parse(readFileSync(resolve('test/fixtures/report/demo-results.json'), 'utf8')) as CampaignResults;

  it('refits to the campaign’s estimates with the demo’s settings, from three wells a pair', () => {
    const report = buildCampaignReport(demo, { settings: FIXTURE_SETTINGS, generatedAt: FIXED_TIME });
    expect(report.pairs).toHaveLength(4);
    for (const pair of report.pairs) {
      const rel = pair.fit!.relativeLog10;
      expect([sig(rel.lo), sig(rel.median), sig(rel.hi)]).toEqual([
        pair.estimate!.ic50LowMicromolar,
        pair.estimate!.ic50Micromolar,
        pair.estimate!.ic50HighMicromolar,
      ]);
    }
  });

  it('renders a page with a figure and a table row per pair and no script', async () => {
    const html = await renderReport(demo, { generatedAt: FIXED_TIME });
    expect(html.match(/<figure class="pair-plot"/g)).toHaveLength(4);
    expect(html.match(/<tr data-pair=/g)).toHaveLength(4);
    expect(html).not.toMatch(/<script/i);
  });
});
