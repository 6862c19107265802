import type { Client } from '@temporalio/client';
import { Gauge, type Registry } from 'prom-client';
import { CAMPAIGN_STATUS } from '../temporal/search-attributes';

/**
 * Running campaigns by state, from Temporal's visibility store (the CampaignStatus search
 * attribute the campaign keeps current), counted when Prometheus scrapes the orchestration
 * worker. "awaiting approval" and "waiting for a person" are the campaigns waiting for people.
 * Workflow code records nothing: it only keeps its search attribute up to date.
 */
export const RUNNING_STATES = ['running', 'paused', 'awaiting approval', 'waiting for a person'] as const;
const MIN_QUERY_INTERVAL_MS = 5_000;

export function registerCampaignMetrics(registry: Registry, client: Client, orchestrationTaskQueue: string): void {
  let last: { at: number; counts: Map<string, number> } | undefined;
  const count = async (): Promise<Map<string, number>> => {
    if (last && Date.now() - last.at < MIN_QUERY_INTERVAL_MS) return last.counts;
    const counts = new Map<string, number>();
    for (const state of RUNNING_STATES) {
      const query =
        `WorkflowType = 'campaignWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${orchestrationTaskQueue}'` +
        ` AND ${CAMPAIGN_STATUS.name} = '${state}'`;
      counts.set(state, (await client.workflow.count(query)).count);
    }
    last = { at: Date.now(), counts };
    return counts;
  };
  new Gauge({
    name: 'cellos_campaigns',
    help: 'Running campaigns on this orchestration task queue by state; "awaiting approval" and "waiting for a person" wait for people',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        for (const [state, n] of await count()) this.set({ state }, n);
      } catch {
        // Visibility unreachable: keep the last values rather than fail the whole scrape.
      }
    },
  });
}
