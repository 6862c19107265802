import type { ClientOptions } from '@temporalio/client';
import { dataConverterOptions } from '../temporal/codec';
import { startTracing } from './tracing';

/**
 * What every cell_OS Temporal client adds to `new Client(...)`: the payload codec (when keys are
 * configured) and the tracing interceptor (when tracing is on), which starts a span for each
 * workflow start, signal, query and update and hands its context to the workflow in a header.
 * Kept apart from the worker side so the CLI does not load the worker's native runtime.
 */
export type ClientTelemetryOptions = Pick<ClientOptions, 'dataConverter' | 'interceptors'>;

export async function clientTelemetryOptions(
  role = 'cli',
  env: NodeJS.ProcessEnv = process.env,
): Promise<ClientTelemetryOptions> {
  const tracing = await startTracing(role, env);
  if (!tracing) return dataConverterOptions(env);
  const { OpenTelemetryWorkflowClientInterceptor } = await import('@temporalio/interceptors-opentelemetry/lib/client');
  return { ...dataConverterOptions(env), interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } };
}
