import { describe, expect, it } from 'vitest';
import { parseStartAt } from '../../src/client/cli';
import { resultsCsv } from '../../src/client/format';
import type { CampaignResults } from '../../src/domain/campaign-status';

const NOW = Date.parse('2026-12-02T08:00:00Z');

describe('--at', () => {
  it('takes strict ISO 8601 with a zone', () => {
    expect(parseStartAt('2026-12-03T08:00:00Z', NOW)).toBe(24 * 3600 * 1000);
    expect(parseStartAt('2026-12-03T09:00:00+01:00', NOW)).toBe(24 * 3600 * 1000);
  });

  it.each([
    ['a time with no zone (it would be read as local time)', '2026-12-03T08:00:00'],
    ['a date that does not exist (Date.parse rolls it to March 2)', '2027-02-30T08:00:00Z'],
    ['an hour that does not exist', '2026-12-03T25:00:00Z'],
    ['a date alone', '2026-12-03'],
    ['words', 'tomorrow'],
  ])('refuses %s, saying what is allowed', (_label, text) => {
    expect(() => parseStartAt(text, NOW)).toThrow(/--at: .*(ISO 8601 with a zone|does not exist|not a date)/);
  });
});

describe('results as CSV', () => {
  it('neutralises cells a spreadsheet would run as formulas', () => {
    const outcome = {
      proposal: {
        proposalId: 'i001-e01',
        cellLine: '=HYPERLINK("http://x")',
        compound: '@SUM(A1)',
        doseMicromolar: 1,
        assay: 'viability',
        isControl: false,
      },
      location: { plateId: 'p', well: 'B2' },
      experimentWorkflowId: 'campaign-x/i001-e01',
      status: 'succeeded',
      costUsd: 1.09,
      iteration: 1,
    } as CampaignResults['outcomes'][number];
    const csv = resultsCsv({ status: {} as CampaignResults['status'], outcomes: [outcome] });
    const row = csv.split('\n')[1]!;
    expect(row).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(row).toContain(`'@SUM(A1)`);
    expect(row).not.toMatch(/(^|,)[=@+-]/);
  });
});
