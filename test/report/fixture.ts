import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CampaignResults } from '../../src/domain/campaign-status';

/** The recorded campaign (scripts/record-report-fixture.ts) and the settings it ran with. */
export function campaignFixture(): CampaignResults {
  return JSON.parse(readFileSync(resolve('test/fixtures/report/campaign-results.json'), 'utf8')) as CampaignResults;
}

export const FIXTURE_SETTINGS = { seed: 42, doseRange: { minMicromolar: 0.001, maxMicromolar: 10 } };

export const FIXED_TIME = '2026-01-01T00:00:00.000Z';
