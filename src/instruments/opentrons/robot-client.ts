import type { LoadedLabware, OpentronsCommand } from './analyzer';
import { RobotRequestError, type OpentronsErrorOccurrence } from './errors';

/**
 * A thin typed client for the part of the Opentrons HTTP API (robot server, port 31950) a
 * protocol run needs. Every request carries `opentrons-version: *`. It knows nothing of keys or
 * retries: run-once.ts decides what to call so a plate step runs at most once.
 */

export type EngineStatus =
  | 'idle'
  | 'running'
  | 'paused'
  | 'blocked-by-open-door'
  | 'stop-requested'
  | 'finishing'
  | 'awaiting-recovery'
  | 'awaiting-recovery-paused'
  | 'awaiting-recovery-blocked-by-open-door'
  | 'stopped'
  | 'failed'
  | 'succeeded';

export const TERMINAL_RUN_STATUSES: readonly EngineStatus[] = ['succeeded', 'failed', 'stopped'];

export interface RobotProtocol {
  id: string;
  createdAt: string;
  key?: string;
  analysisSummaries: { id: string; status: 'pending' | 'completed' }[];
}

export interface RobotAnalysis {
  id: string;
  status: 'pending' | 'completed';
  result?: 'ok' | 'not-ok' | 'parameter-value-required';
  errors?: OpentronsErrorOccurrence[];
}

export interface RobotRun {
  id: string;
  createdAt: string;
  status: EngineStatus;
  current: boolean;
  protocolId?: string;
  actions: { id: string; createdAt: string; actionType: string }[];
  errors: OpentronsErrorOccurrence[];
  labware: LoadedLabware[];
  startedAt?: string;
  completedAt?: string;
}

export interface RobotClientOptions {
  /** e.g. http://10.0.0.5:31950 */
  url: string;
  /** Per request (default 30 s). */
  requestTimeoutMs?: number;
}

const COMMANDS_PAGE = 500;

export class OpentronsRobotClient {
  private readonly base: string;

  constructor(private readonly options: RobotClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  async listProtocols(): Promise<RobotProtocol[]> {
    return (await this.request<{ data: RobotProtocol[] }>('GET', '/protocols')).data;
  }

  /** `POST /protocols` (multipart `files`), tagged with `key` so a retry can find it. */
  async uploadProtocol(input: { fileName: string; source: string; key: string }): Promise<RobotProtocol> {
    const form = new FormData();
    form.append('files', new Blob([input.source], { type: 'text/x-python' }), input.fileName);
    form.append('key', input.key);
    return (await this.request<{ data: RobotProtocol }>('POST', '/protocols', { form })).data;
  }

  async getProtocol(protocolId: string): Promise<RobotProtocol> {
    return (await this.request<{ data: RobotProtocol }>('GET', `/protocols/${enc(protocolId)}`)).data;
  }

  async getAnalysis(protocolId: string, analysisId: string): Promise<RobotAnalysis> {
    const path = `/protocols/${enc(protocolId)}/analyses/${enc(analysisId)}`;
    return (await this.request<{ data: RobotAnalysis }>('GET', path)).data;
  }

  async listRuns(): Promise<RobotRun[]> {
    return (await this.request<{ data: RobotRun[] }>('GET', '/runs')).data;
  }

  async createRun(protocolId: string): Promise<RobotRun> {
    return (await this.request<{ data: RobotRun }>('POST', '/runs', { json: { data: { protocolId } } })).data;
  }

  async getRun(runId: string): Promise<RobotRun> {
    return (await this.request<{ data: RobotRun }>('GET', `/runs/${enc(runId)}`)).data;
  }

  async play(runId: string): Promise<void> {
    await this.request('POST', `/runs/${enc(runId)}/actions`, { json: { data: { actionType: 'play' } } });
  }

  /** Every command of a run, page by page from the first. */
  async listCommands(runId: string): Promise<OpentronsCommand[]> {
    const commands: OpentronsCommand[] = [];
    for (;;) {
      const page = await this.request<{ data: OpentronsCommand[]; meta: { cursor: number; totalLength: number } }>(
        'GET',
        `/runs/${enc(runId)}/commands?cursor=${commands.length}&pageLength=${COMMANDS_PAGE}`,
      );
      commands.push(...page.data);
      if (page.data.length === 0 || commands.length >= page.meta.totalLength) return commands;
    }
  }

  private async request<T>(method: string, path: string, body?: { json?: unknown; form?: FormData }): Promise<T> {
    const headers: Record<string, string> = { 'opentrons-version': '*' };
    let payload: string | FormData | undefined;
    if (body?.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body?.form) payload = body.form;
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new RobotRequestError(method, path, undefined, (error as Error).message);
    }
    const text = await response.text();
    if (!response.ok) throw new RobotRequestError(method, path, response.status, errorDetail(text));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new RobotRequestError(method, path, response.status, `unparseable answer: ${text.slice(0, 200)}`);
    }
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

/** The robot's error bodies are `{ errors: [{ id, title, detail }] }`; FastAPI's 422 is `{ detail }`. */
function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: { title?: string; detail?: string }[]; detail?: unknown };
    if (body.errors?.length) return body.errors.map((e) => [e.title, e.detail].filter(Boolean).join(': ')).join('; ');
    if (body.detail !== undefined) return JSON.stringify(body.detail);
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 500);
}
