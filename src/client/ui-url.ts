import { recordedUiUrl } from '../devserver/local-server';
import { temporalSettings } from '../temporal/connection';

/**
 * The Web UI that really serves the cluster this CLI talks to, for the links it prints:
 * CELLOS_UI_URL when set; Temporal Cloud's UI for a Cloud address; the local dev server's UI as
 * `npm run server` recorded it (var/run/temporal.json, any port); the dev server's default
 * (localhost:8233) for the default local address. Otherwise there is no way to know, and the CLI
 * says to set CELLOS_UI_URL rather than print a link that leads nowhere.
 */
export function webUiBase(
  env: NodeJS.ProcessEnv = process.env,
  address = temporalSettings().address,
): string | undefined {
  if (env.CELLOS_UI_URL) return env.CELLOS_UI_URL.replace(/\/+$/, '');
  if (/\.tmprl\.cloud(:\d+)?$/.test(address)) return 'https://cloud.temporal.io';
  const recorded = recordedUiUrl(address);
  if (recorded) return recorded;
  if (/^(127\.0\.0\.1|localhost):7233$/.test(address)) return 'http://localhost:8233';
  return undefined;
}

export function campaignUrl(workflowId: string, namespace = temporalSettings().namespace): string {
  const base = webUiBase();
  if (!base) return `(set CELLOS_UI_URL to the Web UI of ${temporalSettings().address} for a link)`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
