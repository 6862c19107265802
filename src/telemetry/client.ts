import type { ClientOptions } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import { dataConverterOptions } from '../temporal/codec';
import { startTracing } from './tracing';

/**
 * What every cell_OS Temporal client adds to `new Client(...)`: the payload codec (when keys are
 * configured) and the tracing interceptor (when tracing is on), which starts a span for each
 * workflow start, signal, query and update and hands its context to the workflow in a header.
 * Kept apart from the worker side so the CLI does not load the worker's native runtime.
 */
export type ClientTelemetryOptions = Pick<ClientOptions, 'dataConverter' | 'interceptors'>;

export function clientTelemetryOptions(role = 'cli', env: NodeJS.ProcessEnv = process.env): ClientTelemetryOptions {
  const tracing = startTracing(role, env);
  return {
    ...dataConverterOptions(env),
    ...(tracing ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } } : {}),
  };
}
