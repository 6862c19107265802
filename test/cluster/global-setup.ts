import { clusterUp } from '../../scripts/cluster/cluster';
import { clusterSettings } from '../../scripts/cluster/settings';

/**
 * Brings the cluster up with mTLS (building the server first if this version is not cached yet)
 * unless it already runs, and leaves it running: `npm run cluster:down` stops it (.ci/run does).
 */
export default async function setup(): Promise<void> {
  // The Web UI is pointed at a codec server (npm run codec-server's default address) unless told otherwise.
  process.env.CELLOS_CLUSTER_CODEC_ENDPOINT ??= 'http://localhost:8888';
  await clusterUp(clusterSettings({ tls: true }), { log: (line) => console.log(`[cluster] ${line}`) });
}
