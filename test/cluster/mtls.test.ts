import { readFileSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { clientEnv, connectionOptions, tlsFiles } from '../../scripts/cluster/cluster';
import { clusterPaths, clusterSettings, frontendAddress, TLS_SERVER_NAME, uiUrl } from '../../scripts/cluster/settings';
import { runCellos } from '../helpers/processes';

/**
 * The frontend requires a client certificate signed by the cluster's CA. A client without one
 * (or without TLS at all) gets no answer; the project's CLI and the UI server, configured
 * through the same variables a user sets, are served.
 */
const settings = clusterSettings({ tls: true });

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

  it('refuses a certificate from another CA', async () => {
    const files = tlsFiles(settings);
    // The server's own key pair is signed by the CA, so use the CA's certificate as a "client
    // certificate" with a key that does not match it: the handshake must fail.
    await expect(
      systemInfo({
        address: frontendAddress(settings),
        tls: {
          serverNameOverride: TLS_SERVER_NAME,
          serverRootCACertificate: readFileSync(files.ca),
          clientCertPair: { crt: readFileSync(files.ca), key: readFileSync(files.clientKey) },
        },
      }),
    ).rejects.toThrow();
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

  it('lets the UI server through with its client certificate', async () => {
    const response = await fetch(`${uiUrl(settings)}/api/v1/namespaces/${settings.namespace}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { namespaceInfo?: { name?: string } };
    expect(body.namespaceInfo?.name).toBe(settings.namespace);
  });
});
