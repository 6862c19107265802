import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { status as grpcStatus } from '@grpc/grpc-js';
import proto from '@temporalio/proto';
import { SearchAttributeType } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { ensureBinaries } from './build';
import { initPostgres, postgresPassword, postgresRunning, startPostgres, stopPostgres } from './postgres';
import {
  daemon,
  daemonPid,
  delay,
  killDaemon,
  portOpen,
  spawnDaemon,
  stopDaemon,
  waitUntil,
  type Daemon,
} from './processes';
import {
  clusterPaths,
  frontendAddress,
  SERVICES,
  TEMPORAL_SERVER_VERSION,
  TLS_SERVER_NAME,
  UI_SERVER_VERSION,
  uiUrl,
  type ClusterSettings,
  type ServiceName,
} from './settings';

/**
 * The cell_OS Temporal cluster on one machine, for real: PostgreSQL, the four Temporal services
 * (frontend, history, matching, worker) as separate processes, and the Web UI server. Each piece
 * is configured the way the official container images are, by environment variables read by the
 * config template embedded in the server binary (and the UI image's template), so
 * docker-compose.yml sets the same variables. Every step checks what already runs first, so
 * `up` can be repeated; a failed `up` stops what it started.
 */
type Log = (line: string) => void;

interface ClusterState {
  serverVersion: string;
  uiVersion: string;
  tls: boolean;
  namespace: string;
  address: string;
  uiUrl: string;
  /** The codec endpoint the running UI server was started with. */
  codecEndpoint?: string;
}

const serviceDaemon = (s: ClusterSettings, name: ServiceName): Daemon =>
  daemon(clusterPaths(s).runDir, `temporal-${name}`, 'temporal-server');
const uiDaemon = (s: ClusterSettings): Daemon => daemon(clusterPaths(s).runDir, 'temporal-ui', 'temporal-ui-server');

export function readState(s: ClusterSettings): ClusterState | undefined {
  const { stateFile } = clusterPaths(s);
  return existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState) : undefined;
}

export function tlsFiles(s: ClusterSettings) {
  const dir = clusterPaths(s).tlsDir;
  return {
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
  };
}

export function ensureCertificates(s: ClusterSettings, log: Log): void {
  const files = tlsFiles(s);
  if (Object.values(files).every((f) => existsSync(f))) return;
  const script = join(s.root, 'scripts/cluster/make-certs.sh');
  const result = spawnSync('bash', [script, clusterPaths(s).tlsDir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`make-certs.sh failed: ${result.stderr}`);
  log(result.stdout.trim());
}

/** How this project's scripts and tests reach the frontend (envconfig's fields, resolved). */
export function connectionOptions(s: ClusterSettings, withClientCert = true): ConnectionOptions {
  if (!s.tls) return { address: frontendAddress(s) };
  const files = tlsFiles(s);
  return {
    address: frontendAddress(s),
    tls: {
      serverNameOverride: TLS_SERVER_NAME,
      serverRootCACertificate: readFileSync(files.ca),
      ...(withClientCert
        ? { clientCertPair: { crt: readFileSync(files.clientCert), key: readFileSync(files.clientKey) } }
        : {}),
    },
  };
}

/** The environment a worker or the CLI needs to use the cluster (envconfig's variables). */
export function clientEnv(s: ClusterSettings): Record<string, string> {
  const env: Record<string, string> = { TEMPORAL_ADDRESS: frontendAddress(s), TEMPORAL_NAMESPACE: s.namespace };
  if (s.tls) {
    const files = tlsFiles(s);
    Object.assign(env, {
      TEMPORAL_TLS_CLIENT_CERT_PATH: files.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: files.clientKey,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: files.ca,
      TEMPORAL_TLS_SERVER_NAME: TLS_SERVER_NAME,
    });
  }
  return env;
}

/**
 * The server's environment: the variable names of the template embedded in the server binary
 * (the official `temporalio/server` image's), so docker-compose.yml uses the same names.
 */
export function serverEnv(s: ClusterSettings, service: ServiceName, dbPassword: string): Record<string, string> {
  const p = s.services;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    DB: 'postgres12',
    POSTGRES_SEEDS: '127.0.0.1',
    DB_PORT: String(s.postgres.port),
    // The visibility store reads its port from POSTGRES_PORT (or VISIBILITY_DB_PORT), not DB_PORT.
    POSTGRES_PORT: String(s.postgres.port),
    POSTGRES_USER: s.postgres.user,
    POSTGRES_PWD: dbPassword,
    DBNAME: 'temporal',
    VISIBILITY_DBNAME: 'temporal_visibility',
    NUM_HISTORY_SHARDS: String(s.numHistoryShards),
    BIND_ON_IP: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(p.frontend.grpc),
    FRONTEND_HTTP_PORT: String(s.frontendHttpPort),
    FRONTEND_MEMBERSHIP_PORT: String(p.frontend.membership),
    HISTORY_GRPC_PORT: String(p.history.grpc),
    HISTORY_MEMBERSHIP_PORT: String(p.history.membership),
    MATCHING_GRPC_PORT: String(p.matching.grpc),
    MATCHING_MEMBERSHIP_PORT: String(p.matching.membership),
    WORKER_GRPC_PORT: String(p.worker.grpc),
    WORKER_MEMBERSHIP_PORT: String(p.worker.membership),
    // One metrics port per process: they would collide otherwise.
    PROMETHEUS_ENDPOINT: `127.0.0.1:${p[service].metrics}`,
    DYNAMIC_CONFIG_FILE_PATH: s.dynamicConfigFile,
    LOG_LEVEL: s.logLevel,
    TEMPORAL_ALLOW_NO_AUTH: 'true',
    // What the official image's entrypoint turns into --service; the binary is given --service below.
    SERVICES: service,
  };
  if (s.tls) {
    const f = tlsFiles(s);
    Object.assign(env, {
      // Internode (history, matching, worker ↔ each other and the frontend): mutual TLS.
      TEMPORAL_TLS_SERVER_CA_CERT: f.ca,
      TEMPORAL_TLS_SERVER_CERT: f.serverCert,
      TEMPORAL_TLS_SERVER_KEY: f.serverKey,
      TEMPORAL_TLS_INTERNODE_SERVER_NAME: TLS_SERVER_NAME,
      // Frontend: clients must present a certificate signed by the CA.
      TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
      TEMPORAL_TLS_FRONTEND_CERT: f.serverCert,
      TEMPORAL_TLS_FRONTEND_KEY: f.serverKey,
      TEMPORAL_TLS_CLIENT1_CA_CERT: f.ca,
      TEMPORAL_TLS_CLIENT2_CA_CERT: f.ca,
      TEMPORAL_TLS_FRONTEND_SERVER_NAME: TLS_SERVER_NAME,
    });
  }
  return env;
}

/** The UI server's environment: the variable names of the `temporalio/ui` image's template. */
export function uiEnv(s: ClusterSettings): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TEMPORAL_ADDRESS: frontendAddress(s),
    TEMPORAL_UI_PORT: String(s.uiPort),
    TEMPORAL_DEFAULT_NAMESPACE: s.namespace,
    TEMPORAL_CORS_ORIGINS: `${uiUrl(s)},http://localhost:${s.uiPort}`,
  };
  if (s.codecEndpoint) {
    env.TEMPORAL_CODEC_ENDPOINT = s.codecEndpoint;
    // The codec server's session cookie (docs/telemetry.md) rides on cross-origin calls.
    env.TEMPORAL_CODEC_INCLUDE_CREDENTIALS = 'true';
  }
  if (s.tls) {
    const f = tlsFiles(s);
    Object.assign(env, {
      TEMPORAL_TLS_CA: f.ca,
      TEMPORAL_TLS_CERT: f.clientCert,
      TEMPORAL_TLS_KEY: f.clientKey,
      TEMPORAL_TLS_SERVER_NAME: TLS_SERVER_NAME,
      TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: 'true',
    });
  }
  return env;
}

function setUpSchemas(s: ClusterSettings, log: Log): void {
  const paths = clusterPaths(s);
  const env = {
    ...process.env,
    SQL_HOST: '127.0.0.1',
    SQL_PORT: String(s.postgres.port),
    SQL_USER: s.postgres.user,
    SQL_PASSWORD: postgresPassword(s),
  };
  const sql = (db: string, ...args: string[]) => {
    const result = spawnSync(paths.sqlToolBin, ['--plugin', 'postgres12', '--db', db, ...args], {
      env,
      encoding: 'utf8',
    });
    if (result.status !== 0)
      throw new Error(`temporal-sql-tool ${args[0]} on ${db}: ${result.stderr || result.stdout}`);
    return result.stdout + result.stderr;
  };
  for (const [db, dir] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    // A marker per database, removed with the data folder: setup-schema runs once, update-schema every time.
    const marker = join(paths.pgData, `.cellos-schema-${db}`);
    if (!existsSync(marker)) {
      sql(db, 'create-database');
      sql(db, 'setup-schema', '-v', '0.0');
      writeFileSync(marker, '');
    }
    sql(db, 'update-schema', '-d', join(paths.schemaDir, dir, 'versioned'));
  }
  log('schemas: temporal and temporal_visibility (PostgreSQL 12 schema, advanced visibility) up to date');
}

async function frontendServing(s: ClusterSettings): Promise<boolean> {
  const connection = await Connection.connect({ ...connectionOptions(s), connectTimeout: 1_500 });
  try {
    const health = await connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
    return health.status === proto.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;
  } finally {
    await connection.close();
  }
}

/** Something else (another cluster, a dev server) on our port: say so rather than let the service crash. */
async function requireFreePort(port: number, what: string): Promise<void> {
  // A process that just exited may hold its port for a moment.
  for (let i = 0; i < 20 && (await portOpen(port)); i++) await delay(250);
  if (await portOpen(port))
    throw new Error(
      `port ${port}, wanted by ${what}, is in use by another program; move the cluster with CELLOS_CLUSTER_PORT, CELLOS_CLUSTER_METRICS_PORT or CELLOS_CLUSTER_UI_PORT (docs/cluster.md)`,
    );
}

/** Starts one Temporal service unless it runs; resolves once it listens (the frontend: once it serves). */
export async function startService(s: ClusterSettings, name: ServiceName, log: Log = console.log): Promise<boolean> {
  const d = serviceDaemon(s, name);
  if (daemonPid(d) !== undefined) return false;
  for (const port of [s.services[name].grpc, s.services[name].membership, s.services[name].metrics])
    await requireFreePort(port, `the ${name} service`);
  const paths = clusterPaths(s);
  const pid = spawnDaemon(d, paths.serverBin, ['start', '--service', name], {
    env: serverEnv(s, name, postgresPassword(s)),
    logFile: join(paths.logDir, `${name}.log`),
    cwd: s.stateDir,
  });
  const alive = () => daemonPid(d) !== undefined;
  if (name === 'frontend') await waitUntil('the frontend', () => frontendServing(s), 60_000, alive);
  else await waitUntil(`the ${name} service`, () => portOpen(s.services[name].grpc), 60_000, alive);
  log(
    `${name}: pid ${pid}, gRPC 127.0.0.1:${s.services[name].grpc}, metrics http://127.0.0.1:${s.services[name].metrics}/metrics`,
  );
  return true;
}

export async function stopService(s: ClusterSettings, name: ServiceName): Promise<boolean> {
  return stopDaemon(serviceDaemon(s, name));
}

/** kill -9 of one service process (the crash tests). */
export async function killService(s: ClusterSettings, name: ServiceName): Promise<number> {
  return killDaemon(serviceDaemon(s, name));
}

export function servicePid(s: ClusterSettings, name: ServiceName): number | undefined {
  return daemonPid(serviceDaemon(s, name));
}

const { IndexedValueType } = proto.temporal.api.enums.v1;
const INDEXED_TYPE: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/**
 * Creates the namespace unless it exists, then the project's search attributes. A new namespace
 * is not visible to every service at once (their caches refresh), so each call is retried.
 */
export async function ensureNamespace(s: ClusterSettings, log: Log = console.log): Promise<void> {
  const connection = await Connection.connect(connectionOptions(s));
  const retry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
        await delay(500);
      }
    }
  };
  try {
    const svc = connection.workflowService;
    const exists = await svc.describeNamespace({ namespace: s.namespace }).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await svc
        .registerNamespace({
          namespace: s.namespace,
          workflowExecutionRetentionPeriod: msToTs(`${s.retentionDays} days`),
          description: 'cell_OS campaigns',
        })
        .then(
          () => log(`namespace "${s.namespace}" created (retention ${s.retentionDays} days)`),
          (err: { code?: number }) => {
            // ALREADY_EXISTS: the describe above failed for another reason; the namespace is there.
            if (err.code !== grpcStatus.ALREADY_EXISTS) throw err;
          },
        );
    }
    await retry('the namespace never became visible', () => svc.describeNamespace({ namespace: s.namespace }));
    const existing = await retry('listing search attributes', () =>
      connection.operatorService.listSearchAttributes({ namespace: s.namespace }),
    );
    const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !(k.name in (existing.customAttributes ?? {})));
    if (missing.length > 0) {
      await retry('adding search attributes', () =>
        connection.operatorService.addSearchAttributes({
          namespace: s.namespace,
          searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_TYPE[k.type]!])),
        }),
      );
      log(`search attributes added: ${missing.map((k) => `${k.name} (${k.type})`).join(', ')}`);
    }
    // Visible means a visibility query with them works, which is what workers and the CLI need.
    await retry('the search attributes never became queryable', () =>
      svc.countWorkflowExecutions({ namespace: s.namespace, query: `CampaignId = 'none' AND CampaignStatus = 'none'` }),
    );
  } finally {
    await connection.close();
  }
}

async function uiServing(s: ClusterSettings): Promise<boolean> {
  // Through the UI server to the frontend: proves the UI's own (m)TLS connection works.
  const response = await fetch(`${uiUrl(s)}/api/v1/namespaces/${s.namespace}`, { signal: AbortSignal.timeout(2_000) });
  return response.ok;
}

export async function startUi(s: ClusterSettings, log: Log = console.log): Promise<boolean> {
  const d = uiDaemon(s);
  if (daemonPid(d) !== undefined) return false;
  await requireFreePort(s.uiPort, 'the UI server');
  const paths = clusterPaths(s);
  const pid = spawnDaemon(d, paths.uiBin, ['--root', s.toolsDir, '--config', 'ui-config', '--env', 'docker', 'start'], {
    env: uiEnv(s),
    logFile: join(paths.logDir, 'ui.log'),
  });
  await waitUntil(
    'the UI server',
    () => uiServing(s),
    60_000,
    () => daemonPid(d) !== undefined,
  );
  log(`ui: pid ${pid}, ${uiUrl(s)}`);
  return true;
}

function writeClientFiles(s: ClusterSettings): void {
  const paths = clusterPaths(s);
  const env = clientEnv(s);
  writeFileSync(
    paths.envFile,
    Object.entries(env)
      .map(([k, v]) => `export ${k}=${v}`)
      .join('\n') + '\n',
  );
  // The same as a TOML profile (TEMPORAL_CONFIG_FILE=… TEMPORAL_PROFILE=cellos-cluster), read by
  // @temporalio/envconfig and by the Temporal CLI.
  const lines = ['[profile.cellos-cluster]', `address = "${frontendAddress(s)}"`, `namespace = "${s.namespace}"`];
  if (s.tls) {
    const f = tlsFiles(s);
    lines.push(
      '',
      '[profile.cellos-cluster.tls]',
      `client_cert_path = "${f.clientCert}"`,
      `client_key_path = "${f.clientKey}"`,
      `server_ca_cert_path = "${f.ca}"`,
      `server_name = "${TLS_SERVER_NAME}"`,
    );
  }
  writeFileSync(paths.profileFile, lines.join('\n') + '\n');
}

export interface UpOptions {
  ui?: boolean;
  log?: Log;
}

/** `npm run cluster:up`. */
export async function clusterUp(s: ClusterSettings, options: UpOptions = {}): Promise<void> {
  const log = options.log ?? console.log;
  const paths = clusterPaths(s);
  const previous = readState(s);
  const anyRunning = postgresRunning(s) || SERVICES.some((n) => servicePid(s, n) !== undefined);
  if (previous && anyRunning && previous.tls !== s.tls)
    throw new Error(
      `the cluster runs ${previous.tls ? 'with' : 'without'} TLS; stop it first (npm run cluster:down) to change that`,
    );
  const t0 = Date.now();
  ensureBinaries(s, { ui: options.ui }, log);
  log(`binaries: Temporal server ${TEMPORAL_SERVER_VERSION}, UI server ${UI_SERVER_VERSION} (${s.toolsDir})`);
  for (const dir of [paths.logDir, paths.runDir]) mkdirSync(dir, { recursive: true });
  if (s.tls) ensureCertificates(s, log);
  const started: (() => Promise<unknown>)[] = [];
  let uiCodec = previous?.codecEndpoint;
  try {
    if (initPostgres(s)) log(`postgres: new database cluster in ${paths.pgData}`);
    if (!postgresRunning(s)) {
      startPostgres(s);
      started.push(async () => stopPostgres(s));
      log(`postgres: started on 127.0.0.1:${s.postgres.port} (log ${paths.pgLog})`);
    } else log(`postgres: already running on 127.0.0.1:${s.postgres.port}`);
    setUpSchemas(s, log);
    // History first: the frontend answers health checks only once it can reach history and matching.
    for (const name of ['history', 'matching', 'frontend', 'worker'] as const) {
      if (await startService(s, name, log)) started.push(() => stopService(s, name));
      else log(`${name}: already running (pid ${servicePid(s, name)})`);
    }
    await ensureNamespace(s, log);
    if (options.ui !== false) {
      if (await startUi(s, log)) {
        started.push(() => stopDaemon(uiDaemon(s)));
        uiCodec = s.codecEndpoint;
      } else log(`ui: already running at ${uiUrl(s)}`);
    }
  } catch (err) {
    log(`cluster:up failed: ${(err as Error).message}`);
    log(`stopping what this run started; logs in ${paths.logDir}`);
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    throw err;
  }
  const state: ClusterState = {
    serverVersion: TEMPORAL_SERVER_VERSION,
    uiVersion: UI_SERVER_VERSION,
    tls: s.tls,
    namespace: s.namespace,
    address: frontendAddress(s),
    uiUrl: uiUrl(s),
    ...(uiCodec ? { codecEndpoint: uiCodec } : {}),
  };
  writeFileSync(paths.stateFile, JSON.stringify(state, null, 2) + '\n');
  writeClientFiles(s);
  log('');
  log(`Temporal cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  log(
    `  frontend   ${frontendAddress(s)}${s.tls ? ' (mTLS: client certificate required)' : ''}, namespace "${s.namespace}"`,
  );
  if (options.ui !== false) log(`  Web UI     ${uiUrl(s)}${s.codecEndpoint ? ` (codec ${s.codecEndpoint})` : ''}`);
  log(`  PostgreSQL 127.0.0.1:${s.postgres.port} (user ${s.postgres.user}, password in ${paths.pgPasswordFile})`);
  log(`  metrics    ${SERVICES.map((n) => `${n} :${s.services[n].metrics}`).join(', ')}`);
  log(
    `  clients    source ${paths.envFile}   (or TEMPORAL_CONFIG_FILE=${paths.profileFile} TEMPORAL_PROFILE=cellos-cluster)`,
  );
}

/** `npm run cluster:down`: stops everything the cluster runs; `purge` also deletes its data. */
export async function clusterDown(s: ClusterSettings, options: { purge?: boolean; log?: Log } = {}): Promise<void> {
  const log = options.log ?? console.log;
  if (await stopDaemon(uiDaemon(s))) log('ui: stopped');
  for (const name of ['worker', 'frontend', 'matching', 'history'] as const)
    if (await stopService(s, name)) log(`${name}: stopped`);
  if (postgresRunning(s)) {
    stopPostgres(s);
    log('postgres: stopped');
  }
  if (options.purge) {
    rmSync(s.stateDir, { recursive: true, force: true });
    log(`deleted ${s.stateDir} (database, certificates, logs)`);
  }
}

export function clusterStatus(s: ClusterSettings): string[] {
  const lines = [`postgres   ${postgresRunning(s) ? `running on 127.0.0.1:${s.postgres.port}` : 'stopped'}`];
  for (const name of SERVICES) {
    const pid = servicePid(s, name);
    lines.push(`${name.padEnd(10)} ${pid ? `running (pid ${pid}), 127.0.0.1:${s.services[name].grpc}` : 'stopped'}`);
  }
  const ui = daemonPid(uiDaemon(s));
  lines.push(`ui         ${ui ? `running (pid ${ui}), ${uiUrl(s)}` : 'stopped'}`);
  const state = readState(s);
  if (state) lines.push(`tls        ${state.tls ? 'on (client certificates required)' : 'off'}`);
  return lines;
}
