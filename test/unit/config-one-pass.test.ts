import { describe, expect, it } from 'vitest';
import { resolveCampaignConfig } from '../../src/config/campaign-config';
import { ConfigError, keysAt, suggest } from '../../src/config/validation';
import { campaignConfigSchema } from '../../src/config/campaign-config';

function problems(input: Record<string, unknown>): string[] {
  try {
    resolveCampaignConfig(input, 'campaign.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.field}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('config errors', () => {
  it('are all reported in one pass, cross-field checks included, with "did you mean" for names', () => {
    const found = problems({
      name: 'ok-name',
      cellLines: ['U2OS', 'U2OS'],
      compounds: ['staurosporine'],
      doseRange: { minMicromolar: 0.001, maxMicromolar: 10 },
      assay: 'viabilty',
      batchsize: 4,
      maxIterations: 0,
      budgetUsd: 100,
      approvel: 'required',
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^assay: must be one of .*\(did you mean "viability"\?\)/),
        expect.stringMatching(/^batchSize: is required/),
        expect.stringMatching(/^maxIterations: must be at least 1/),
        expect.stringMatching(/"batchsize" \(did you mean "batchSize"\?\), "approvel" \(did you mean "approval"\?\)/),
        // A cross-field check, reported although other fields are wrong too.
        expect.stringMatching(/^cellLines\[1\]: "U2OS" is listed twice/),
      ]),
    );
    expect(found).toHaveLength(5);
  });

  it('suggests keys of nested objects too, and nothing for a name far from every key', () => {
    expect(keysAt(campaignConfigSchema, ['failurePause'])).toEqual(['maxFailureRate', 'minExperiments']);
    expect(keysAt(campaignConfigSchema, ['notifications', 'webhooks', 0])).toEqual(['url', 'format']);
    expect(suggest('maxFailurRate', ['maxFailureRate', 'minExperiments'])).toBe(' (did you mean "maxFailureRate"?)');
    expect(suggest('colour', ['name', 'assay'])).toBe('');
  });
});
