import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry tracing for one process (CLI, orchestration worker, lab worker). On when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) names a collector — spans go
 * there as OTLP over HTTP — or when CELLOS_TRACES_FILE names a file that gets one JSON span per line
 * (for tests and for a look without a collector). OTEL_SDK_DISABLED=true turns it off. The
 * service name is OTEL_SERVICE_NAME or cellos-<role>.
 *
 * Temporal's interceptors (see index.ts and client.ts) carry the trace from the client's start
 * through the workflows (whose spans leave the sandbox through a sink) to the lab activities.
 * The OpenTelemetry SDK is loaded only when tracing is on: it costs a CLI call a second otherwise.
 */
export interface Tracing {
  resource: Resource;
  /** Every span of this process, the workflow spans from the sink included, goes through this. */
  spanProcessor: SpanProcessor;
  shutdown(): Promise<void>;
}

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.CELLOS_TRACES_FILE);
}

let installed: Promise<Tracing> | undefined;

/** Installs the process's tracer provider once (global, with async context); undefined when tracing is off. */
export async function startTracing(role: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  if (!tracingEnabled(env)) return undefined;
  installed ??= import('./tracing-provider').then((m) => m.installTracerProvider(role, env));
  return installed;
}
