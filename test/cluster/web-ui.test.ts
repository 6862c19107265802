import { describe, expect, it } from 'vitest';
import { readState } from '../../scripts/cluster/cluster';
import { clusterSettings, uiUrl } from '../../scripts/cluster/settings';

/**
 * The Web UI server cluster:up runs: it reaches the frontend with its client certificate (it
 * lists the namespace), and it tells browsers where the codec server is, so people with the
 * codec server's token read encrypted payloads (docs/telemetry.md).
 */
const settings = clusterSettings({ tls: true });

describe('the cluster’s Web UI server', () => {
  it('lists the namespace through its mTLS connection to the frontend', async () => {
    const response = await fetch(`${uiUrl(settings)}/api/v1/namespaces`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { namespaces?: { namespaceInfo?: { name?: string } }[] };
    expect(body.namespaces?.map((n) => n.namespaceInfo?.name)).toContain(settings.namespace);
  });

  it('gives browsers the codec endpoint it was started with, with credentials', async () => {
    const state = readState(settings);
    expect(state?.codecEndpoint, 'cluster:up records the codec endpoint of the UI it started').toBeDefined();
    const response = await fetch(`${uiUrl(settings)}/api/v1/settings`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { Codec?: { Endpoint?: string; IncludeCredentials?: boolean } };
    expect(body.Codec?.Endpoint).toBe(state?.codecEndpoint);
    expect(body.Codec?.IncludeCredentials).toBe(true);
  });
});
