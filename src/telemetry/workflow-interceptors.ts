/**
 * Workflow interceptors for tracing, loaded into the workflow bundle (WorkerOptions.interceptors
 * .workflowModules, or bundleWorkflowCode's workflowInterceptorModules). Bundle-safe: it imports
 * only the package's workflow entry, which uses no Node built-ins and ships its spans out of the
 * sandbox through the `exporter` sink the worker provides.
 */
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new OpenTelemetryInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
