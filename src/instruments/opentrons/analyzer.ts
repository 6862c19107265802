import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { OpentronsErrorOccurrence } from './errors';
import { ensureOpentronsVenv, type VenvOptions } from './python-env';

/**
 * The vendor's protocol analyzer, kept warm: one long-lived Python process
 * (python/opentrons/analysis_server.py) imports opentrons once (~6 s) and then analyses each
 * protocol in well under a second, through the same code path as `opentrons analyze --json-output`.
 * Requests are answered in order, one at a time; a crashed helper is restarted on the next call.
 */

const SERVER_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../python/opentrons/analysis_server.py');

/** A command as the analyzer (and the robot's `GET /runs/{id}/commands`) reports it. */
export interface OpentronsCommand {
  id: string;
  key: string;
  commandType: string;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  params: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: OpentronsErrorOccurrence;
  notes?: unknown[];
  intent?: string;
}

export interface LoadedLabware {
  id: string;
  loadName: string;
  definitionUri: string;
  location: unknown;
  displayName?: string;
}

/** What `opentrons analyze --json-output` writes (the fields this project reads). */
export interface ProtocolAnalysis {
  result: 'ok' | 'not-ok' | 'parameter-value-required';
  robotType?: string;
  commands: OpentronsCommand[];
  labware: LoadedLabware[];
  pipettes: { id: string; pipetteName: string; mount: string }[];
  modules: unknown[];
  liquids: unknown[];
  errors: OpentronsErrorOccurrence[];
  [other: string]: unknown;
}

export interface AnalysisAnswer {
  analysis: ProtocolAnalysis;
  /** Seconds the helper spent analysing (excludes the one-time import). */
  seconds: number;
}

export interface AnalyzerOptions extends VenvOptions {
  /** Milliseconds for one analysis before the helper is presumed hung (default 120 s). */
  timeoutMs?: number;
}

interface Pending {
  resolve: (answer: AnalysisAnswer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class OpentronsAnalyzer {
  private child: ChildProcessWithoutNullStreams | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<string, Pending>();
  private stderrTail: string[] = [];
  private nextId = 1;
  private closed = false;
  /** Seconds the last start took (venv check/creation plus opentrons import). */
  startSeconds = 0;
  venvCreatedInSeconds = 0;

  constructor(private readonly options: AnalyzerOptions = {}) {}

  /** Starts the helper (creating the venv if needed) and waits until opentrons is imported. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the analyzer is closed'));
    this.ready ??= this.spawnHelper().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  async analyse(protocol: string, fileName = 'protocol.py'): Promise<AnalysisAnswer> {
    await this.start();
    const child = this.child!;
    const id = String(this.nextId++);
    return new Promise<AnalysisAnswer>((resolveAnswer, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`opentrons analysis of ${fileName} timed out; helper stderr: ${this.stderrTail.join('')}`));
        child.kill('SIGKILL');
      }, this.options.timeoutMs ?? 120_000);
      this.pending.set(id, { resolve: resolveAnswer, reject, timer });
      child.stdin.write(JSON.stringify({ id, fileName, protocol }) + '\n');
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private async spawnHelper(): Promise<void> {
    const started = Date.now();
    const venv = await ensureOpentronsVenv(this.options);
    this.venvCreatedInSeconds = venv.createdInSeconds;
    const child = spawn(venv.python, [SERVER_SCRIPT], {
      env: {
        ...(this.options.env ?? process.env),
        // Keep opentrons' settings files out of the home folder.
        OT_API_CONFIG_DIR: join(venv.dir, 'opentrons-config'),
        PYTHONUNBUFFERED: '1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.stderrTail = [];
    child.stderr.on('data', (c: Buffer) => {
      this.stderrTail.push(c.toString());
      if (this.stderrTail.length > 40) this.stderrTail.shift();
    });
    let readyResolve: () => void = () => undefined;
    let readyReject: (error: Error) => void = () => undefined;
    const ready = new Promise<void>((ok, fail) => {
      readyResolve = ok;
      readyReject = fail;
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let message: {
        ready?: boolean;
        id?: string;
        ok?: boolean;
        error?: string;
        seconds?: number;
        analysis?: ProtocolAnalysis;
      };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        this.stderrTail.push(`(unparsed stdout) ${line.slice(0, 200)}\n`);
        return;
      }
      if (message.ready) return readyResolve();
      const pending = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id!);
      clearTimeout(pending.timer);
      if (message.ok && message.analysis)
        pending.resolve({ analysis: message.analysis, seconds: message.seconds ?? 0 });
      else pending.reject(new Error(`opentrons analysis server failed: ${message.error ?? 'no answer'}`));
    });
    child.once('exit', (code, signal) => {
      const error = new Error(
        `opentrons analysis server exited (${code ?? signal}); stderr: ${this.stderrTail.join('').slice(-3000)}`,
      );
      readyReject(error);
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(error);
        this.pending.delete(id);
      }
      if (this.child === child) {
        this.child = undefined;
        this.ready = undefined;
      }
    });
    child.once('error', (error) => readyReject(error));
    await ready;
    this.startSeconds = (Date.now() - started) / 1000;
  }
}
