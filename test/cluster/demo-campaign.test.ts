import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCampaignConfigFile } from '../../src/config/campaign-config';
import type { CampaignResults } from '../../src/domain/campaign-status';
import { clusterSettings } from '../../scripts/cluster/settings';
import { resultWithin } from '../helpers/crash-harness';
import { ClusterLab } from './cluster-lab';

/**
 * The demo campaign (examples/demo.yaml: 3 iterations × 4 experiments, the Bayesian learner) on
 * the four-process cluster, with one lab-worker process per instrument and two for the liquid
 * handler.
 */
const settings = clusterSettings({ tls: true });
let lab: ClusterLab;
beforeAll(async () => {
  lab = await ClusterLab.open(settings);
});
afterAll(async () => {
  await lab?.close();
});

describe('the demo campaign on the cluster', () => {
  it('completes with a clean audit, capacity holding across the lab-worker processes, and only ciphertext on the server', async () => {
    const t0 = Date.now();
    const config = loadCampaignConfigFile('examples/demo.yaml');
    const handle = await lab.startCampaign(config, `campaign-demo-${randomUUID().slice(0, 6)}`);
    const results = await resultWithin<CampaignResults>(handle, lab.client, 240_000);
    const audit = lab.audit(results);
    const peaks = lab.peakUse();
    console.log(
      `demo on the cluster: ${results.status.state} in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
        `${audit.wells} wells, $${audit.spentUsd.toFixed(2)} spent, $${audit.physicalCostUsd.toFixed(2)} of lab work; ` +
        `instrument peaks ${JSON.stringify(peaks)}`,
    );
    expect(results.status.state).toBe('completed');
    expect(audit.problems).toEqual([]);
    // 3 iterations × (4 treatments + 2 vehicle wells for each of the 2 lines).
    expect(audit.wells).toBe(3 * (4 + 2 * 2));
    // Two processes polled the liquid handler's queue, and it still ran one operation at a time.
    expect((await lab.pollers('liquid-handler')).length).toBeGreaterThanOrEqual(2);
    expect(peaks['liquid-handler']!.uses).toBeGreaterThan(0);
    for (const [instrument, { peak, capacity }] of Object.entries(peaks))
      expect(peak, `${instrument} peak use`).toBeLessThanOrEqual(capacity);

    // What the server stores, read by a client without the key: no compound, no readout in clear.
    const plain = new Client({ connection: lab.client.connection, namespace: settings.namespace });
    const stored = Buffer.from(
      proto.temporal.api.history.v1.History.encode(
        await plain.workflow.getHandle(handle.workflowId).fetchHistory(),
      ).finish(),
    ).toString('latin1');
    expect(stored).toContain('campaignWorkflow');
    expect(stored).toContain('binary/encrypted');
    for (const secret of ['staurosporine', 'tunicamycin', String(results.outcomes[0]!.readout?.signal ?? 'none')])
      expect(stored, secret).not.toContain(secret);
  });
});
