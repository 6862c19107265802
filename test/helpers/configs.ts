import { resolveCampaignConfig, type CampaignConfig, type CampaignConfigInput } from '../../src/config/campaign-config';
import { builtinLabProfile, type LabProfile } from '../../src/config/lab-profile';
import type { FaultProfile } from '../../src/lab/driver';
import { uniqueName } from './temporal-env';

/** A small, fast campaign (0.02 s per lab hour, space-filling proposer) with overrides; the name is unique per call. */
export function testConfig(overrides: Partial<CampaignConfigInput> = {}): CampaignConfig {
  return resolveCampaignConfig(
    {
      name: uniqueName('t'),
      cellLines: ['U2OS', 'HEK293T'],
      compounds: ['staurosporine'],
      doseRange: { minMicromolar: 0.001, maxMicromolar: 10 },
      assay: 'viability',
      batchSize: 4,
      maxIterations: 2,
      budgetUsd: 500,
      seed: 7,
      secondsPerLabHour: 0.02,
      controlsPerLine: 1,
      // Orchestration tests use the simple proposer so the number of batches does not depend on learning.
      proposer: 'space-filling',
      ...overrides,
    },
    'test config',
  );
}

/** The built-in lab with faults switched on (the lab worker's profile, never the campaign's). */
export function profileWithFaults(faults: FaultProfile): LabProfile {
  return { ...builtinLabProfile(), faults: faults as LabProfile['faults'] };
}
