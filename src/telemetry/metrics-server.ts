import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * One Prometheus endpoint per worker process: GET /metrics answers the Temporal runtime's own
 * series (fetched from the runtime's exporter, bound to a loopback port only this process uses)
 * followed by cell_OS's campaign and lab series from the prom-client registry.
 */
export interface MetricsServer {
  server: Server;
  /** host:port actually bound (port 0 picks a free one). */
  address: string;
  close(): Promise<void>;
}

export async function startMetricsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  runtimeMetricsUrl?: string;
}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    void Promise.all([runtimeMetrics(options.runtimeMetricsUrl), options.registry.metrics()]).then(
      ([runtime, app]) => {
        res.writeHead(200, { 'Content-Type': options.registry.contentType }).end(`${runtime}\n${app}`);
      },
      (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    server,
    address: `${options.host}:${bound.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function runtimeMetrics(url: string | undefined): Promise<string> {
  if (!url) return '';
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return res.ok ? (await res.text()).trimEnd() : `# the Temporal runtime's metrics answered ${res.status}`;
  } catch (err) {
    return `# the Temporal runtime's metrics are unreachable (${(err as Error).message})`;
  }
}
