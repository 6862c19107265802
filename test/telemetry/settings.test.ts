import { describe, expect, it } from 'vitest';
import { dataConverterOptions, FAILURE_CONVERTER_PATH } from '../../src/temporal/codec';
import { codecServerSettings } from '../../src/temporal/codec/codec-server';
import { WORKFLOW_INTERCEPTORS_PATH, workerTelemetrySettings, workflowBundleOptions } from '../../src/telemetry';
import { newKey } from './keys';

describe('telemetry settings', () => {
  it('changes nothing when nothing is configured', () => {
    expect(dataConverterOptions({})).toEqual({});
    expect(workflowBundleOptions({})).toEqual({});
    expect(workerTelemetrySettings('lab', [], {}).metricsPort).toBeUndefined();
  });

  it('encrypts and encodes failures once a key is set; bundles the tracing interceptors once tracing is on', () => {
    const { dataConverter } = dataConverterOptions({ CELLOS_CODEC_KEY: newKey() });
    expect(dataConverter?.payloadCodecs).toHaveLength(1);
    expect(dataConverter?.failureConverterPath).toBe(FAILURE_CONVERTER_PATH);
    expect(workflowBundleOptions({ CELLOS_CODEC_KEY: newKey(), CELLOS_TRACES_FILE: '/tmp/x.jsonl' })).toEqual({
      failureConverterPath: FAILURE_CONVERTER_PATH,
      workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH],
    });
    expect(workflowBundleOptions({ CELLOS_TRACES_FILE: '/tmp/x.jsonl', OTEL_SDK_DISABLED: 'true' })).toEqual({});
  });

  it('takes the metrics port from --metrics-port before CELLOS_METRICS_PORT, and names a bad one', () => {
    const env = { CELLOS_METRICS_PORT: '9464' };
    expect(workerTelemetrySettings('lab', ['--instrument', 'imager', '--metrics-port', '9500'], env).metricsPort).toBe(
      9500,
    );
    expect(workerTelemetrySettings('orchestration', [], env)).toEqual({
      role: 'orchestration',
      metricsPort: 9464,
      metricsHost: '127.0.0.1',
    });
    expect(() => workerTelemetrySettings('lab', [], { CELLOS_METRICS_PORT: 'ninety' })).toThrow(
      /CELLOS_METRICS_PORT: "ninety" is not a port/,
    );
  });

  it('runs the codec server only with a token, on 8888 for the local Web UI by default', () => {
    expect(() => codecServerSettings([], {})).toThrow(/CELLOS_CODEC_TOKEN is not set/);
    expect(codecServerSettings([], { CELLOS_CODEC_TOKEN: 't'.repeat(20) })).toEqual({
      host: '127.0.0.1',
      port: 8888,
      token: 't'.repeat(20),
      allowedOrigins: ['http://localhost:8233'],
    });
    const custom = codecServerSettings(['--port', '9000'], {
      CELLOS_CODEC_TOKEN: 't'.repeat(20),
      CELLOS_CODEC_CORS_ORIGINS: 'http://localhost:8233, http://127.0.0.1:8233',
    });
    expect(custom.port).toBe(9000);
    expect(custom.allowedOrigins).toEqual(['http://localhost:8233', 'http://127.0.0.1:8233']);
  });
});
