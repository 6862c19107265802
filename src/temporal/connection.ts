import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/**
 * Where Temporal is, read the standard way (@temporalio/envconfig): TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_* or a TOML profile
 * (TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE). With nothing set: the local dev server, namespace "default".
 */
export interface TemporalSettings {
  connectionOptions: NativeConnectionOptions;
  namespace: string;
  address: string;
}

export function temporalSettings(): TemporalSettings {
  const config = loadClientConnectConfig();
  return {
    connectionOptions: config.connectionOptions,
    namespace: config.namespace ?? 'default',
    address: config.connectionOptions.address ?? 'localhost:7233',
  };
}

/** Web UI address for links printed to the user; CELLOS_UI_URL overrides (e.g. Temporal Cloud). */
export function webUiUrl(): string {
  return process.env.CELLOS_UI_URL ?? 'http://localhost:8233';
}
