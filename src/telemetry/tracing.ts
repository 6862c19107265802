import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExportResultCode, hrTimeToMicroseconds, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Context } from '@opentelemetry/api';

/**
 * OpenTelemetry tracing for one process (CLI, orchestration worker, lab worker). On when
 * OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) names a collector — spans go
 * there as OTLP over HTTP — or when CELLOS_TRACES_FILE names a file that gets one JSON span per line
 * (for tests and for a look without a collector). OTEL_SDK_DISABLED=true turns it off. The
 * service name is OTEL_SERVICE_NAME or cellos-<role>.
 *
 * Temporal's interceptors (see ../temporal/telemetry.ts) carry the trace from the client's start
 * through the workflows (whose spans leave the sandbox through a sink) to the lab activities.
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

let installed: Tracing | undefined;

/** Installs the process's tracer provider once (global, with async context); undefined when tracing is off. */
export function startTracing(role: string, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  if (installed) return installed;
  if (!tracingEnabled(env)) return undefined;
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME || `cellos-${role}` });
  const processors: SpanProcessor[] = [];
  // The OTLP exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT and _HEADERS itself.
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  if (env.CELLOS_TRACES_FILE)
    processors.push(new SimpleSpanProcessor(new JsonLinesSpanExporter(env.CELLOS_TRACES_FILE)));
  const spanProcessor = new FanOutSpanProcessor(processors);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  let stopped: Promise<void> | undefined;
  installed = {
    resource,
    spanProcessor,
    shutdown: () => (stopped ??= provider.shutdown()),
  };
  // Short-lived processes (the CLI) flush what is left when the event loop empties.
  process.once('beforeExit', () => void installed?.shutdown());
  return installed;
}

/** One JSON object per finished span, appended to a file. */
export class JsonLinesSpanExporter implements SpanExporter {
  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      const lines = spans.map((s) =>
        JSON.stringify({
          traceId: s.spanContext().traceId,
          spanId: s.spanContext().spanId,
          parentSpanId: s.parentSpanId,
          name: s.name,
          kind: s.kind,
          service: s.resource.attributes['service.name'],
          startMicros: hrTimeToMicroseconds(s.startTime),
          endMicros: hrTimeToMicroseconds(s.endTime),
          status: s.status,
          attributes: s.attributes,
        }),
      );
      if (lines.length > 0) appendFileSync(this.path, lines.join('\n') + '\n');
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}
}

/** Hands every span to several processors (the OTLP batcher and the file writer). */
class FanOutSpanProcessor implements SpanProcessor {
  constructor(private readonly processors: SpanProcessor[]) {}
  onStart(span: Span, parentContext: Context): void {
    for (const p of this.processors) p.onStart(span, parentContext);
  }
  onEnd(span: ReadableSpan): void {
    for (const p of this.processors) p.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.shutdown()));
  }
}
