import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureSila2Venv, SILA2_READER_DIR, type EnsureVenvOptions, type Sila2Venv } from './python-env';
import { createSila2PlateReader } from './sila2-plate-reader';

/**
 * Runs the virtual SiLA 2 plate reader (python/sila2-reader) as a child process: builds its venv if
 * needed, starts `python -m cellos_plate_reader` on loopback without TLS or discovery, and resolves
 * once the server answers a SiLA call (a bound port is not yet a serving SiLA server) with the
 * identity it was started with (else it is some other server that holds the port).
 *
 * A free port is found by binding port 0 and releasing it, so another process can take it in
 * between; when the port was not given, a server that dies while starting is retried on another.
 */
export interface StartSila2ReaderOptions {
  /** URL of the plate source (see plate-source.ts). */
  plateSource: string;
  /** Default: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Instrument time a read reports (default 60 s: a plate read takes about a minute). */
  readSeconds?: number;
  /** A JSON-lines file that keeps the reader's Run Key memory across restarts of the server. */
  journal?: string;
  /** Give up if the server does not serve within this long (after the venv is ready). Default 60 s. */
  startTimeoutMs?: number;
  venv?: EnsureVenvOptions;
}

export interface Sila2ReaderServer {
  /** `host:port`, what `createSila2PlateReader({ address })` takes. */
  address: string;
  port: number;
  pid: number;
  venv: Sila2Venv;
  /** Milliseconds from spawning the server until it answered (venv time not included). */
  startMs: number;
  /** What the server printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

const START_ATTEMPTS_ON_FREE_PORT = 3;

export async function startSila2ReaderServer(options: StartSila2ReaderOptions): Promise<Sila2ReaderServer> {
  const venv = await ensureSila2Venv(options.venv);
  const host = options.host ?? '127.0.0.1';
  const attempts = options.port === undefined ? START_ATTEMPTS_ON_FREE_PORT : 1;
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = options.port ?? (await freePort(host));
    try {
      return await startOnce(venv, host, port, options);
    } catch (err) {
      lastError = err as Error;
      if (!(err instanceof ServerExitedError)) throw err;
    }
  }
  throw lastError!;
}

class ServerExitedError extends Error {}

async function startOnce(
  venv: Sila2Venv,
  host: string,
  port: number,
  options: StartSila2ReaderOptions,
): Promise<Sila2ReaderServer> {
  const serverUuid = randomUUID();
  const args = [
    '-m',
    'cellos_plate_reader',
    '--ip-address',
    host,
    '--port',
    String(port),
    '--server-uuid',
    serverUuid,
    '--insecure',
    '--disable-discovery',
    '--plate-source',
    options.plateSource,
    '--read-seconds',
    String(options.readSeconds ?? 60),
    ...(options.journal ? ['--journal', options.journal] : []),
  ];
  const started = Date.now();
  const child = spawn(venv.python, args, {
    cwd: SILA2_READER_DIR,
    env: { ...process.env, PYTHONPATH: SILA2_READER_DIR, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => chunks.push(c.toString()));
  const output = () => chunks.join('');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A Node process that exits normally takes its reader with it (a SIGKILLed one cannot).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    await stopChild(child, exited);
  };

  const address = `${host}:${port}`;
  const probe = createSila2PlateReader({ address, propertyTimeoutMs: 1_000 });
  const deadline = started + (options.startTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (hasExited(child))
        throw new ServerExitedError(
          `the SiLA 2 reader exited while starting on ${address} (${child.exitCode ?? child.signalCode}): ${output()}`,
        );
      const serving = await probe.identity().then(
        (identity) => identity.includes(serverUuid),
        () => false,
      );
      if (serving) break;
      if (Date.now() > deadline) {
        throw new Error(`the SiLA 2 reader did not serve on ${address} within ${deadline - started} ms: ${output()}`);
      }
      await sleep(200);
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await probe.close();
  }
  return { address, port, pid: child.pid!, venv, startMs: Date.now() - started, output, stop };
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
