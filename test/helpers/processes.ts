import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Real worker processes and CLI calls, as a user runs them. Workers are started with
 * `node --import tsx src/workers/<role>.ts`, exactly like `npm run worker:<role>`.
 */
export interface WorkerProcess {
  role: 'orchestration' | 'lab';
  process: ChildProcess;
  output: string[];
  ready: Promise<void>;
}

export function startWorkerProcess(role: 'orchestration' | 'lab', env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(`src/workers/${role}.ts`)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const ready = new Promise<void>((ok, fail) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (chunk.toString().includes('polling')) ok();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('exit', (code, signal) =>
      fail(new Error(`${role} worker exited (${code ?? signal}): ${output.join('')}`)),
    );
  });
  ready.catch(() => undefined);
  return { role, process: child, output, ready };
}

export async function stopWorkerProcess(w: WorkerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (w.process.exitCode !== null || w.process.signalCode !== null) return;
  const exited = new Promise<void>((r) => w.process.once('exit', () => r()));
  w.process.kill(signal);
  const timer = setTimeout(() => w.process.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCellos(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [resolve('bin/cellos.mjs'), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}
