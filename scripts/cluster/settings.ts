import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Everything `npm run cluster:up` needs to know, from defaults and environment variables, in one
 * place: versions, ports, folders. The ports sit away from the dev server's (7233, 8233) and from
 * the free ports the test suite's dev server picks, so both can run beside the cluster.
 */
export const TEMPORAL_SERVER_VERSION = '1.32.1';
export const UI_SERVER_VERSION = '2.54.1';

export const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ServicePorts {
  grpc: number;
  membership: number;
  /** Prometheus `/metrics` of this service process. */
  metrics: number;
}

export interface ClusterSettings {
  /** The project's folder: relative paths below are resolved against it. */
  root: string;
  /** State of the running cluster (git-ignored): PostgreSQL data, logs, pid files, certificates. */
  stateDir: string;
  /** Built binaries, per version, shared by every clone of the user (outside the repository). */
  cacheDir: string;
  /** Links to the cached binaries (git-ignored). */
  toolsDir: string;
  namespace: string;
  retentionDays: number;
  frontendHttpPort: number;
  services: Record<ServiceName, ServicePorts>;
  uiPort: number;
  postgres: { port: number; user: string; bin: string };
  /** Frontend requires client certificates (mTLS) and the services talk TLS among themselves. */
  tls: boolean;
  /** Passed to the UI server so people can read encrypted payloads (see docs/telemetry.md). */
  codecEndpoint: string | undefined;
  dynamicConfigFile: string;
  numHistoryShards: number;
  logLevel: string;
}

export interface ClusterOptions {
  tls?: boolean;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new Error(`${name}=${raw}: expected a port number 1–65535`);
  return n;
}

export function clusterSettings(options: ClusterOptions = {}, env: NodeJS.ProcessEnv = process.env): ClusterSettings {
  const root = resolve(env.CELLOS_ROOT ?? process.cwd());
  const frontend = intFromEnv(env, 'CELLOS_CLUSTER_PORT', 7633);
  const metrics = intFromEnv(env, 'CELLOS_CLUSTER_METRICS_PORT', 9633);
  const cacheBase = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const stateDir = resolve(root, env.CELLOS_CLUSTER_DIR ?? 'var/cluster');
  // Fixed offsets from the frontend port, so one variable moves the whole cluster.
  const ports = (offset: number, i: number): ServicePorts => ({
    grpc: frontend + offset,
    membership: frontend + 10 + offset,
    metrics: metrics + i,
  });
  const tlsEnv = env.CELLOS_CLUSTER_TLS;
  return {
    root,
    stateDir,
    cacheDir: resolve(env.CELLOS_CACHE_DIR ?? join(cacheBase, 'cellos')),
    toolsDir: resolve(root, '.tools/temporal-cluster'),
    namespace: env.CELLOS_CLUSTER_NAMESPACE || 'default',
    retentionDays: intFromEnv(env, 'CELLOS_CLUSTER_RETENTION_DAYS', 7),
    frontendHttpPort: frontend + 4,
    services: {
      frontend: ports(0, 0),
      history: ports(1, 1),
      matching: ports(2, 2),
      worker: ports(3, 3),
    },
    uiPort: intFromEnv(env, 'CELLOS_CLUSTER_UI_PORT', 8633),
    postgres: {
      port: intFromEnv(env, 'CELLOS_CLUSTER_PG_PORT', 55433),
      user: 'temporal',
      bin: env.CELLOS_PG_BIN || '/usr/lib/postgresql/15/bin',
    },
    tls: options.tls ?? (tlsEnv === '1' || tlsEnv === 'true'),
    codecEndpoint: env.CELLOS_CLUSTER_CODEC_ENDPOINT || undefined,
    dynamicConfigFile: resolve(root, env.CELLOS_CLUSTER_DYNAMIC_CONFIG ?? 'deploy/temporal/dynamicconfig.yaml'),
    numHistoryShards: 4,
    logLevel: env.CELLOS_CLUSTER_LOG_LEVEL || 'warn',
  };
}

/** Where each piece of the cluster keeps its files. */
export function clusterPaths(s: ClusterSettings) {
  return {
    pgData: join(s.stateDir, 'postgres/data'),
    pgRun: join(s.stateDir, 'postgres/run'),
    pgLog: join(s.stateDir, 'postgres/postgres.log'),
    pgPasswordFile: join(s.stateDir, 'postgres-password'),
    logDir: join(s.stateDir, 'log'),
    runDir: join(s.stateDir, 'run'),
    tlsDir: join(s.stateDir, 'tls'),
    stateFile: join(s.stateDir, 'cluster.json'),
    profileFile: join(s.stateDir, 'temporal.toml'),
    envFile: join(s.stateDir, 'client.env'),
    serverBin: join(s.toolsDir, 'temporal-server'),
    sqlToolBin: join(s.toolsDir, 'temporal-sql-tool'),
    uiBin: join(s.toolsDir, 'temporal-ui-server'),
    uiConfigDir: join(s.toolsDir, 'ui-config'),
    schemaDir: join(s.toolsDir, 'schema/postgresql/v12'),
  };
}

export const frontendAddress = (s: ClusterSettings) => `127.0.0.1:${s.services.frontend.grpc}`;
export const uiUrl = (s: ClusterSettings) => `http://127.0.0.1:${s.uiPort}`;
/** The host name in the server certificate; clients check it (the address is an IP). */
export const TLS_SERVER_NAME = 'localhost';
