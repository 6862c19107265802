import { clusterUp } from '../../scripts/cluster/cluster';
import { clusterSettings } from '../../scripts/cluster/settings';

/**
 * Brings the cluster up with mTLS (building the server first if this version is not cached yet)
 * unless it already runs, and leaves it running: `npm run cluster:down` stops it (.ci/run does).
 */
export default async function setup(): Promise<void> {
  await clusterUp(clusterSettings({ tls: true }), { log: (line) => console.log(`[cluster] ${line}`) });
}
