import { parseArgs } from 'node:util';
import { clusterDown, clusterStatus, clusterUp, readState } from './cluster';
import { clusterSettings } from './settings';

/**
 * `npm run cluster:up -- [--tls] [--no-ui]` (a rerun without --tls keeps the mode the cluster was
 * last brought up in; CELLOS_CLUSTER_TLS=0 or 1 says it outright), `npm run cluster:down -- [--purge]`,
 * `npm run cluster:status`. Ports, folders and the namespace come from CELLOS_CLUSTER_* variables
 * (docs/cluster.md).
 */
const USAGE = 'usage: cluster up [--tls] [--no-ui] | down [--purge] | status';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      tls: { type: 'boolean' },
      'no-ui': { type: 'boolean', default: false },
      purge: { type: 'boolean', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw new Error(`unexpected "${rest.join(' ')}"; ${USAGE}`);
  let settings = clusterSettings(values.tls === undefined ? {} : { tls: values.tls });
  // Without --tls (or CELLOS_CLUSTER_TLS), a cluster keeps the mode it was last brought up in.
  const previous = readState(settings);
  if (values.tls === undefined && !process.env.CELLOS_CLUSTER_TLS && previous)
    settings = { ...settings, tls: previous.tls };
  if (command === 'up') await clusterUp(settings, { ui: !values['no-ui'] });
  else if (command === 'down') await clusterDown(settings, { purge: values.purge });
  else if (command === 'status') for (const line of clusterStatus(settings)) console.log(line);
  else throw new Error(`unknown command "${command ?? ''}"; ${USAGE}`);
}

main().catch((err) => {
  console.error(`error: ${(err as Error).message}`);
  process.exit(1);
});
