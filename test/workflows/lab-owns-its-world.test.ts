import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/client/campaign-client';
import { parseLabProfile, type LabProfile } from '../../src/config/lab-profile';
import { UNKNOWN_BIOLOGY } from '../../src/domain/failures';
import { incubatorWorkflowId } from '../../src/temporal/task-queues';
import { testConfig } from '../helpers/configs';
import { waitFor } from '../helpers/wait';
import { openTestEnv, uniqueName, withWorkers, type TemporalTestEnv } from '../helpers/temporal-env';

/**
 * The lab owns its world: the virtual lab's profile is the lab worker's, and nothing of its model
 * reaches a workflow. A sparse panel of chosen pairs runs as one campaign on a custom profile.
 */
let env: TemporalTestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(async () => {
  await env?.close();
});

// Distinctive truths, so a leak of any of them into a history is unmistakable.
const PANEL_PROFILE = `
name: panel-lab
referenceHours: 48
noiseSeed: 4
cellLines:
  PNL1: { doublingHours: 23.417, maxConfluence: 0.9, countCv: 0.1, viabilityCv: 0.02, bioCv: 0.05 }
compounds:
  cmpd-a:
    hillSlope: 1.3791
    ic50Micromolar: { U2OS: 0.04173, HeLa: 0.1193 }
  cmpd-b:
    hillSlope: 0.6137
    ic50Micromolar: { A549: 2.8317 }
  cmpd-c:
    hillSlope: 2.7113
    bottom: 0.3519
    ic50Micromolar: { U2OS: 0.7727 }
    responses:
      HeLa: { ic50Micromolar: 1.5319, hillSlope: 1.8311, bottom: 0.0613 }
  cmpd-d:
    ic50Micromolar: { A549: 0.2291 }
    responses:
      U2OS: { ic50Micromolar: 0.0907, hillSlope: 1.1713, top: 0.9713 }
  cmpd-e:
    hillSlope: 1.5173
    ic50Micromolar: { HeLa: 3.3371, PNL1: 0.5531 }
faults:
  contaminationRate: 0
  transientErrorRate: 0
`;
const PANEL: [string, string][] = [
  ['U2OS', 'cmpd-a'],
  ['HeLa', 'cmpd-a'],
  ['A549', 'cmpd-b'],
  ['U2OS', 'cmpd-c'],
  ['HeLa', 'cmpd-c'],
  ['U2OS', 'cmpd-d'],
  ['A549', 'cmpd-d'],
  ['HeLa', 'cmpd-e'],
];

function panelProfile(): LabProfile {
  return parseLabProfile(PANEL_PROFILE, 'panel profile');
}

/** Keys of the lab's model that must never appear in orchestration. */
const MODEL_KEYS = [
  'ic50Micromolar',
  'hillSlope',
  'bottom',
  'top',
  'referenceHours',
  'responses',
  'doublingHours',
  'maxConfluence',
  'countCv',
  'viabilityCv',
  'bioCv',
  'noiseSeed',
  'labSeed',
  'faults',
  'contaminationRate',
  'transientErrorRate',
  'plateNoiseKey',
  'simulation',
];

/** Every value of the model: each curve's numbers and the custom line's biology. */
function modelValues(profile: LabProfile): number[] {
  const values = new Set<number>();
  for (const [compound, entry] of Object.entries(profile.compounds)) {
    if (!compound.startsWith('cmpd-')) continue;
    for (const r of Object.values(entry.responses)) {
      values.add(r.ic50Micromolar);
      values.add(r.hillSlope);
      if (r.bottom > 0) values.add(r.bottom);
      if (r.top < 1) values.add(r.top);
    }
  }
  values.add(profile.cellLines.PNL1!.doublingHours);
  // Defaults such as a slope of 1 are no secret; the profile's own figures are.
  return [...values].filter((v) => !Number.isInteger(v));
}

/** A history as text, with every payload's bytes decoded (payloads are JSON in UTF-8). */
async function historyText(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return JSON.stringify(history, (_key, value: unknown) =>
    value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
  );
}

async function workflowIds(client: Client, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query })) ids.push(w.workflowId);
  return ids;
}

function leaksIn(text: string, profile: LabProfile): string[] {
  const leaks: string[] = [];
  for (const key of MODEL_KEYS) if (new RegExp(`\\\\?"${key}\\\\?"\\s*:`).test(text)) leaks.push(`key ${key}`);
  for (const v of modelValues(profile))
    if (new RegExp(`(^|[^0-9.])${String(v).replace('.', '\\.')}([^0-9]|$)`).test(text)) leaks.push(`value ${v}`);
  return leaks;
}

describe('the lab owns its world', () => {
  it('keeps every value and key of the lab model out of the histories of a campaign, its experiments, its plates and the lab services', async () => {
    const profile = panelProfile();
    await withWorkers(
      env,
      async (lab) => {
        const config = testConfig({
          cellLines: undefined,
          compounds: undefined,
          pairs: PANEL.slice(0, 4).map(([cellLine, compound]) => ({ cellLine, compound })),
          maxIterations: 2,
          batchSize: 6,
          proposer: 'bayesian',
        });
        const campaignId = `campaign-${config.name}`;
        const handle = await startCampaign({ client: env.client, ...lab }, config, campaignId);
        const results = await handle.result();
        expect(results.status.state).toMatch(/completed|goal reached/);
        expect(results.outcomes.every((o) => o.status === 'succeeded')).toBe(true);

        const children = await waitFor(
          () => workflowIds(env.client, `CampaignId = "${campaignId}" AND WorkflowId != "${campaignId}"`),
          // Each well's experiment and each iteration's plate.
          (found) => found.length === results.outcomes.length + results.status.iteration,
        );
        const ids = [campaignId, ...children, incubatorWorkflowId(lab.labTaskQueue)];
        const leaks: string[] = [];
        for (const id of ids)
          for (const leak of leaksIn(await historyText(env.client, id), profile)) leaks.push(`${id}: ${leak}`);
        expect(leaks).toEqual([]);
        // The scan itself can fail: the profile's own text is full of them.
        expect(leaksIn(JSON.stringify(profile), profile).length).toBeGreaterThan(10);
      },
      { profile },
    );
  });

  it('fails an experiment whose pair the lab worker has no model for with a typed failure naming the pair', async () => {
    await withWorkers(
      env,
      async (lab) => {
        // The campaign was checked against another lab; this lab worker's profile lacks the pair.
        const config = testConfig({ cellLines: ['PNL1'], compounds: ['cmpd-b'], maxIterations: 1, batchSize: 2 });
        const results = await (
          await startCampaign({ client: env.client, ...lab }, config, uniqueName('campaign-nomodel'))
        ).result();
        const treatments = results.outcomes.filter((o) => !o.proposal.isControl);
        expect(treatments).toHaveLength(2);
        for (const o of treatments) {
          expect(o.status).toBe('failed');
          expect(o.failure?.type).toBe(UNKNOWN_BIOLOGY);
          expect(o.failure?.message).toMatch(/no response model for PNL1 × cmpd-b/);
          expect(o.completedSteps).toEqual(['seed']);
        }
        // The vehicle wells need no model and still run.
        expect(results.outcomes.filter((o) => o.proposal.isControl).every((o) => o.status === 'succeeded')).toBe(true);
      },
      { profile: panelProfile() },
    );
  });

  it('answers a sparse 8-pair panel over 3 lines and 5 compounds as one campaign, near the profile truths', async () => {
    const profile = panelProfile();
    await withWorkers(
      env,
      async (lab) => {
        const config = testConfig({
          name: 'sparse-panel',
          cellLines: undefined,
          compounds: undefined,
          pairs: PANEL.map(([cellLine, compound]) => ({ cellLine, compound })),
          doseRange: { minMicromolar: 0.001, maxMicromolar: 30 },
          proposer: 'bayesian',
          objective: { type: 'ic50', halfWidthLog10: 0.2 },
          // Read at the profile's reference time, so its stated curves are the truths to meet.
          protocol: { attachmentHours: 4, treatmentHours: 48 },
          batchSize: 24,
          controlsPerLine: 2,
          maxIterations: 8,
          budgetUsd: 2_000,
          seed: 5,
        });
        const handle = await startCampaign(
          { client: env.client, ...lab },
          config,
          `campaign-${config.name}-${lab.labTaskQueue}`,
        );
        const results = await handle.result();
        expect(['goal reached', 'completed']).toContain(results.status.state);
        const estimates = results.status.estimates;
        expect(estimates.map((e) => `${e.cellLine}|${e.compound}`).sort()).toEqual(
          PANEL.map(([l, c]) => `${l}|${c}`).sort(),
        );
        const rows = estimates.map((e) => {
          const truth = profile.compounds[e.compound]!.responses[e.cellLine]!.ic50Micromolar;
          return {
            pair: `${e.cellLine} × ${e.compound}`,
            truth,
            estimate: e.ic50Micromolar,
            low: e.ic50LowMicromolar,
            high: e.ic50HighMicromolar,
            wells: e.wells,
            state: e.state,
            inside: e.ic50LowMicromolar! <= truth && truth <= e.ic50HighMicromolar!,
            log10Error: Math.abs(Math.log10(e.ic50Micromolar! / truth)),
          };
        });
        console.table(rows);
        expect(rows.filter((r) => r.inside).length).toBeGreaterThanOrEqual(7);
        for (const r of rows) expect(r.log10Error).toBeLessThan(0.3);
      },
      { profile },
    );
  });
});
