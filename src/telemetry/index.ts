import type { CompoundPricing } from '../domain/costs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry/lib/worker';
import { Runtime, type ActivityInterceptorsFactory, type WorkerOptions } from '@temporalio/worker';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { encryptionEnabled, FAILURE_CONVERTER_PATH } from '../temporal/codec';
import { clientTelemetryOptions, type ClientTelemetryOptions } from './client';
import { registerCampaignMetrics } from './campaign-metrics';
import { LabMetrics } from './lab-metrics';
import { labMetricsInterceptor } from './lab-metrics-interceptor';
import { startMetricsServer, type MetricsServer } from './metrics-server';
import { startTracing, tracingEnabled, type Tracing } from './tracing';

/**
 * Everything a cell_OS process adds to its Temporal clients and workers: the payload codec
 * (../temporal/codec), OpenTelemetry tracing (./tracing.ts) and, in workers, Prometheus metrics.
 * Each consumer spreads these options into `new Client(...)` / `Worker.create(...)`; with nothing
 * configured they are empty and Temporal behaves as before.
 */
export const WORKFLOW_INTERCEPTORS_PATH = fileURLToPath(new URL('./workflow-interceptors.ts', import.meta.url));

export { clientTelemetryOptions, type ClientTelemetryOptions } from './client';

/**
 * For code that bundles workflows itself (`bundleWorkflowCode`, e.g. a prebuilt
 * CELLOS_WORKFLOW_BUNDLE): the same failure converter and workflow interceptors the workers
 * would bundle from `workflowsPath`.
 */
export function workflowBundleOptions(env: NodeJS.ProcessEnv = process.env): {
  failureConverterPath?: string;
  workflowInterceptorModules?: string[];
} {
  return {
    ...(encryptionEnabled(env) ? { failureConverterPath: FAILURE_CONVERTER_PATH } : {}),
    ...(tracingEnabled(env) ? { workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH] } : {}),
  };
}

export interface WorkerTelemetry {
  clientOptions: ClientTelemetryOptions;
  /** Spread into every Worker.create of this process. */
  workerOptions: Partial<WorkerOptions>;
  /** The Prometheus endpoint, when metrics are on. */
  metrics?: { address: string; registry: Registry };
  /** Orchestration worker: count running campaigns by state at each scrape. */
  observeCampaigns(client: Client, orchestrationTaskQueue: string): void;
  shutdown(): Promise<void>;
}

export interface WorkerTelemetrySettings {
  role: 'orchestration' | 'lab';
  /** Port of this process's Prometheus endpoint (0: any free port); undefined: metrics off. */
  metricsPort?: number;
  metricsHost: string;
  /** Lab workers: the catalogue price of a compound, for the spend metric of a dose. */
  pricing?: (compound: string) => CompoundPricing;
}

/** `--metrics-port N` or CELLOS_METRICS_PORT (off when neither is given); CELLOS_METRICS_HOST (default 127.0.0.1). */
export function workerTelemetrySettings(
  role: WorkerTelemetrySettings['role'],
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): WorkerTelemetrySettings {
  const { values } = parseArgs({ args: argv, options: { 'metrics-port': { type: 'string' } }, strict: false });
  const text = (values['metrics-port'] as string | undefined) ?? env.CELLOS_METRICS_PORT;
  let metricsPort: number | undefined;
  if (text !== undefined && text !== '') {
    metricsPort = Number(text);
    if (!/^\d+$/.test(text) || metricsPort > 65535) {
      throw new Error(
        `--metrics-port / CELLOS_METRICS_PORT: "${text}" is not a port; allowed: 0-65535 (0 picks a free one)`,
      );
    }
  }
  return { role, metricsPort, metricsHost: env.CELLOS_METRICS_HOST || '127.0.0.1' };
}

/**
 * Call first thing in a worker process, before any connection: the Temporal runtime (and with it
 * its Prometheus exporter) can be installed only once per process, before it is first used.
 */
export async function startWorkerTelemetry(
  settings: WorkerTelemetrySettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<WorkerTelemetry> {
  const tracing = await startTracing(settings.role, env);
  const clientOptions = await clientTelemetryOptions(settings.role, env);
  const activityInterceptors: ActivityInterceptorsFactory[] = [];
  let metricsServer: MetricsServer | undefined;
  let registry: Registry | undefined;

  if (settings.metricsPort !== undefined) {
    const runtimePort = await freeLoopbackPort();
    Runtime.install({
      telemetryOptions: {
        metrics: {
          prometheus: { bindAddress: `127.0.0.1:${runtimePort}`, useSecondsForDurations: true },
          globalTags: { cellos_role: settings.role },
        },
      },
    });
    registry = new Registry();
    registry.setDefaultLabels({ cellos_role: settings.role });
    collectDefaultMetrics({ register: registry });
    if (settings.role === 'lab')
      activityInterceptors.push(labMetricsInterceptor(new LabMetrics(registry), settings.pricing));
    metricsServer = await startMetricsServer({
      host: settings.metricsHost,
      port: settings.metricsPort,
      registry,
      runtimeMetricsUrl: `http://127.0.0.1:${runtimePort}/metrics`,
    });
  }
  if (tracing) activityInterceptors.push(otelActivityInterceptors());

  return {
    clientOptions,
    workerOptions: {
      ...(clientOptions.dataConverter ? { dataConverter: clientOptions.dataConverter } : {}),
      ...(activityInterceptors.length > 0 || tracing
        ? {
            interceptors: {
              activity: activityInterceptors,
              ...(tracing ? { workflowModules: [WORKFLOW_INTERCEPTORS_PATH] } : {}),
            },
          }
        : {}),
      ...(tracing ? { sinks: workflowSpanSink(tracing) } : {}),
    },
    ...(metricsServer && registry ? { metrics: { address: metricsServer.address, registry } } : {}),
    observeCampaigns(client, orchestrationTaskQueue) {
      if (registry) registerCampaignMetrics(registry, client, orchestrationTaskQueue);
    },
    async shutdown() {
      await metricsServer?.close();
      await tracing?.shutdown();
    },
  };
}

function otelActivityInterceptors(): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
    outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
  });
}

function workflowSpanSink(tracing: Tracing): WorkerOptions['sinks'] {
  return { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) };
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
