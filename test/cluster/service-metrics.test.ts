import { describe, expect, it } from 'vitest';
import { clusterSettings, SERVICES } from '../../scripts/cluster/settings';

/** Each of the four service processes serves its own Prometheus endpoint, labelled with its service. */
const settings = clusterSettings({ tls: true });

describe('the cluster’s service metrics', () => {
  for (const name of SERVICES) {
    it(`serves the ${name} service's Prometheus metrics on its own port`, async () => {
      const response = await fetch(`http://127.0.0.1:${settings.services[name].metrics}/metrics`);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toMatch(/^persistence_requests\{/m);
      expect(text).toContain(`service_name="${name}"`);
    });
  }
});
