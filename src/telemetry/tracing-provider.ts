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
import type { Tracing } from './tracing';

/** The OpenTelemetry SDK side of tracing.ts (loaded only when tracing is on): the tracer provider (global, with async context) and its exporters; called once, by startTracing. */
export function installTracerProvider(role: string, env: NodeJS.ProcessEnv): Tracing {
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
  const tracing: Tracing = {
    resource,
    spanProcessor,
    shutdown: () => (stopped ??= provider.shutdown()),
  };
  // Short-lived processes (the CLI) flush what is left when the event loop empties.
  process.once('beforeExit', () => void tracing.shutdown());
  return tracing;
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
