import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { clientEnv, connectionOptions, tlsFiles } from '../../scripts/cluster/cluster';
import { clusterPaths, clusterSettings, frontendAddress, TLS_SERVER_NAME, uiUrl } from '../../scripts/cluster/settings';
import { ensureTemporalCli } from '../../src/devserver/temporal-cli';
import { runCellos } from '../helpers/processes';

/**
 * The frontend requires a client certificate signed by the cluster's CA. A client without one
 * (or without TLS at all) gets no answer; the project's CLI and the UI server, configured
 * through the same variables a user sets, are served.
 */
const settings = clusterSettings({ tls: true });

/** A TLS handshake with openssl, as any client would make it: what the server answered. */
function handshake(extra: string[]): string {
  const files = tlsFiles(settings);
  const result = spawnSync(
    'openssl',
    [
      's_client',
      '-connect',
      frontendAddress(settings),
      '-servername',
      TLS_SERVER_NAME,
      '-CAfile',
      files.ca,
      '-alpn',
      'h2',
      // Keep reading after stdin ends: the server's verdict on the client certificate comes after the handshake.
      '-ign_eof',
      ...extra,
    ],
    { input: '\n', encoding: 'latin1', timeout: 5_000 },
  );
  return `${result.stdout}\n${result.stderr}`;
}

async function systemInfo(options: Parameters<typeof Connection.connect>[0]): Promise<string> {
  const connection = await Connection.connect({ ...options, connectTimeout: 5_000 });
  try {
    const info = await connection.workflowService.getSystemInfo({});
    return info.serverVersion ?? '';
  } finally {
    await connection.close();
  }
}

describe('mTLS on the cluster frontend', () => {
  it('refuses a TLS client that presents no certificate', async () => {
    await expect(systemInfo(connectionOptions(settings, false))).rejects.toThrow();
  });

  it('refuses a plaintext client', async () => {
    await expect(systemInfo({ address: frontendAddress(settings) })).rejects.toThrow();
  });

  it('refuses a client certificate signed by another CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cellos-other-ca-'));
    try {
      execFileSync('bash', ['scripts/cluster/make-certs.sh', dir]);
      const other = handshake(['-cert', join(dir, 'client.pem'), '-key', join(dir, 'client.key')]);
      expect(other).toMatch(/alert (unknown ca|bad certificate|certificate unknown)/);
      await expect(
        systemInfo({
          address: frontendAddress(settings),
          tls: {
            serverNameOverride: TLS_SERVER_NAME,
            serverRootCACertificate: readFileSync(tlsFiles(settings).ca),
            clientCertPair: { crt: readFileSync(join(dir, 'client.pem')), key: readFileSync(join(dir, 'client.key')) },
          },
        }),
      ).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a handshake without a client certificate with the TLS alert "certificate required"', () => {
    expect(handshake([])).toMatch(/alert certificate required/);
    const files = tlsFiles(settings);
    const ok = handshake(['-cert', files.clientCert, '-key', files.clientKey]);
    expect(ok).not.toMatch(/alert/);
    expect(ok).toMatch(/ALPN protocol: h2/);
  });

  it('serves a client with the certificate', async () => {
    expect(await systemInfo(connectionOptions(settings))).toMatch(/^1\.32\./);
  });

  it('serves the cellos CLI configured by TEMPORAL_TLS_* variables, and refuses it without them', async () => {
    const served = await runCellos(['list'], clientEnv(settings));
    expect(served.stderr).toBe('');
    expect(served.code).toBe(0);
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _k, ...withoutCert } = clientEnv(settings);
    const refused = await runCellos(['list'], withoutCert);
    expect(refused.code).not.toBe(0);
  });

  it('serves the cellos CLI through the TOML profile cluster:up wrote', async () => {
    const paths = clusterPaths(settings);
    const served = await runCellos(['list'], {
      TEMPORAL_CONFIG_FILE: paths.profileFile,
      TEMPORAL_PROFILE: 'cellos-cluster',
    });
    expect(served.stderr).toBe('');
    expect(served.code).toBe(0);
  });

  it('serves the Temporal CLI through the same profile, and refuses it without a client certificate', () => {
    const temporal = ensureTemporalCli();
    const paths = clusterPaths(settings);
    const run = (env: Record<string, string>) =>
      spawnSync(temporal, ['operator', 'namespace', 'describe', '-n', settings.namespace], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const served = run({ TEMPORAL_CONFIG_FILE: paths.profileFile, TEMPORAL_PROFILE: 'cellos-cluster' });
    expect(served.stderr).toBe('');
    expect(served.stdout).toMatch(/State\s+Registered/);
    const files = tlsFiles(settings);
    const refused = run({
      TEMPORAL_ADDRESS: frontendAddress(settings),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca,
      TEMPORAL_TLS_SERVER_NAME: TLS_SERVER_NAME,
    });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/client certificate/);
  });

  it('lets the UI server through with its client certificate', async () => {
    const response = await fetch(`${uiUrl(settings)}/api/v1/namespaces/${settings.namespace}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { namespaceInfo?: { name?: string } };
    expect(body.namespaceInfo?.name).toBe(settings.namespace);
  });
});
