import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SearchAttributeType } from '@temporalio/common';
import { ALL_SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { ensureTemporalCli } from './temporal-cli';

/**
 * Starts the Temporal dev server (SQLite persistence, Web UI) and makes sure this project's
 * search attributes exist. Attributes given on the command line are only registered when the
 * namespace is created, so with an existing database they are added through the operator API.
 */
export interface DevServerOptions {
  port: number;
  uiPort?: number; // omit for headless
  dbFile: string;
  logFile: string;
  namespace?: string;
  dynamicConfig?: Record<string, unknown>;
  /** Detach so the server outlives this process (the demo leaves it up for the Web UI). */
  detached?: boolean;
}

export interface DevServer {
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Task-queue priority and fairness decide whose instrument operation goes next. Priority holds
 * within one task-queue partition, so instrument queues get a single partition: an instrument
 * serves one operation at a time anyway, and the order it sees must be the priority order.
 */
export const PRIORITY_CONFIG: Record<string, unknown> = {
  'matching.useNewMatcher': true,
  'matching.enableFairness': true,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
};

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const cli = ensureTemporalCli();
  mkdirSync(dirname(options.dbFile), { recursive: true });
  mkdirSync(dirname(options.logFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--db-filename',
    options.dbFile,
    '--namespace',
    options.namespace ?? 'default',
    '--log-level',
    'warn',
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=NORMAL',
  ];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  for (const [key, value] of Object.entries({ ...PRIORITY_CONFIG, ...options.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const log = openSync(options.logFile, 'a');
  const child = spawn(cli, args, { stdio: ['ignore', log, log], detached: options.detached ?? false });
  closeSync(log);
  if (options.detached) child.unref();
  const address = `127.0.0.1:${options.port}`;
  try {
    await waitForServer(address, child, 60_000);
    await ensureSearchAttributes(address, options.namespace ?? 'default');
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}; see ${options.logFile}`);
  }
  return {
    address,
    process: child,
    stop: () => stopProcess(child),
  };
}

export async function isServing(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

async function waitForServer(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error('the Temporal dev server exited during start-up');
    if (await isServing(address)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the Temporal dev server did not answer on ${address} within ${timeoutMs / 1000} s`);
}

const { IndexedValueType } = proto.temporal.api.enums.v1;
const INDEXED_TYPE: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};
/** Registers any of the project's search attributes the namespace lacks. Safe to call repeatedly. */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = ALL_SEARCH_ATTRIBUTES.filter((k) => !(k.name in (existing.customAttributes ?? {})));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_TYPE[k.type]!])),
      });
    }
    return missing.map((k) => k.name);
  } finally {
    await connection.close();
  }
}

export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
