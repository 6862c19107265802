import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpentronsCommand, ProtocolAnalysis } from '../../../src/instruments/opentrons/analyzer';
import type { OpentronsErrorOccurrence } from '../../../src/instruments/opentrons/errors';
import { checkRequest, checkResponse } from './openapi-schemas';

/**
 * A small Opentrons robot server on 127.0.0.1 for tests: the protocol and run endpoints the
 * driver uses, each request and answer checked against the HTTP API 8.2.0 reference's schemas
 * (a mismatch answers 500 and is kept in `violations`). An uploaded protocol is analysed with the
 * vendor's analyzer, and a played run executes the analysis's own command list, so runs report
 * realistic commands. Like the real robot it does not de-duplicate: every POST makes something.
 */

type Status = 'idle' | 'running' | 'failed' | 'succeeded' | 'stopped';

interface FakeProtocol {
  id: string;
  createdAt: string;
  key?: string;
  fileName: string;
  source: string;
  analysisId: string;
  analysis?: ProtocolAnalysis;
}

interface FakeRun {
  id: string;
  createdAt: string;
  protocolId: string;
  status: Status;
  current: boolean;
  actions: { id: string; createdAt: string; actionType: string }[];
  errors: OpentronsErrorOccurrence[];
  commands: OpentronsCommand[];
  startedAt?: string;
  completedAt?: string;
  labwareLoaded: boolean;
}

export interface RunFailure {
  /** Fails the first command for which this holds (index in the protocol's command list). */
  at: (command: OpentronsCommand, index: number, analysis: ProtocolAnalysis) => boolean;
  error: { errorType: string; errorCode: string; detail: string };
}

export interface FakeRobotOptions {
  analyse: (source: string, fileName: string) => Promise<ProtocolAnalysis>;
  /** Commands executed per tick of a playing run (default 100). */
  commandsPerTick?: number;
}

const ROUTES: { method: string; template: string; pattern: RegExp }[] = [
  ['GET', '/protocols'],
  ['POST', '/protocols'],
  ['GET', '/protocols/{protocolId}'],
  ['GET', '/protocols/{protocolId}/analyses/{analysisId}'],
  ['GET', '/runs'],
  ['POST', '/runs'],
  ['GET', '/runs/{runId}'],
  ['POST', '/runs/{runId}/actions'],
  ['GET', '/runs/{runId}/commands'],
].map(([method, template]) => ({
  method: method!,
  template: template!,
  pattern: new RegExp(`^${template!.replace(/\{[^}]+\}/g, '([^/]+)')}$`),
}));

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

export class FakeOpentronsRobot {
  readonly protocols = new Map<string, FakeProtocol>();
  readonly runs = new Map<string, FakeRun>();
  readonly requests: { method: string; path: string; status: number }[] = [];
  readonly violations: string[] = [];
  private nextFailure: RunFailure | undefined;
  private readonly drops: { method: string; pattern: RegExp }[] = [];
  private readonly pendingAnalyses = new Set<Promise<void>>();
  url = '';

  private readonly server: Server;

  private constructor(private readonly options: FakeRobotOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(options: FakeRobotOptions): Promise<FakeOpentronsRobot> {
    const robot = new FakeOpentronsRobot(options);
    await new Promise<void>((ok) => robot.server.listen(0, '127.0.0.1', ok));
    robot.url = `http://127.0.0.1:${(robot.server.address() as AddressInfo).port}`;
    return robot;
  }

  /** The next run played fails at the first command `at` picks, with the robot's error shape. */
  failNextRun(failure: RunFailure): void {
    this.nextFailure = failure;
  }

  /** The next matching request is cut off before the robot acts on it (a worker killed mid-call). */
  dropNext(method: string, pattern: RegExp): void {
    this.drops.push({ method, pattern });
  }

  /** Deletes a protocol and its runs, as the robot does with old ones past its storage limit. */
  prune(protocolId: string): void {
    this.protocols.delete(protocolId);
    for (const [id, run] of this.runs) if (run.protocolId === protocolId) this.runs.delete(id);
  }

  count(method: string, pattern: RegExp): number {
    return this.requests.filter((r) => r.method === method && pattern.test(r.path)).length;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pendingAnalyses]);
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://robot');
    const method = req.method ?? 'GET';
    const drop = this.drops.findIndex((d) => d.method === method && d.pattern.test(url.pathname));
    if (drop >= 0) {
      this.drops.splice(drop, 1);
      this.requests.push({ method, path: url.pathname, status: 0 });
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const route = ROUTES.find((r) => r.method === method && r.pattern.test(url.pathname));
    let status = 200;
    let body: unknown;
    try {
      if (!route)
        throw new HttpError(404, { errors: [{ id: 'RouteNotFound', title: 'Not found', detail: url.pathname }] });
      const version = req.headers['opentrons-version'];
      if (version !== '*' && !(typeof version === 'string' && /^\d+$/.test(version) && Number(version) >= 2)) {
        this.violations.push(`${method} ${url.pathname}: opentrons-version header is ${String(version)}`);
        throw new HttpError(422, {
          detail: [{ loc: ['header', 'opentrons-version'], msg: 'field required', type: 'value_error.missing' }],
        });
      }
      const params = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
      [status, body] = await this.dispatch(route.template, method, params, url, req, raw);
      this.expectValid(checkResponse(route.template, method, status, body));
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        body = error.body;
      } else {
        status = 500;
        body = { errors: [{ id: 'FakeRobotError', title: 'Fake robot error', detail: (error as Error).message }] };
      }
    }
    this.requests.push({ method, path: url.pathname, status });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private expectValid(problems: string[]): void {
    if (problems.length === 0) return;
    this.violations.push(...problems);
    throw new Error(problems.join('; '));
  }

  private async dispatch(
    template: string,
    method: string,
    params: string[],
    url: URL,
    req: IncomingMessage,
    raw: Buffer,
  ): Promise<[number, unknown]> {
    const json = (): unknown => {
      const parsed = JSON.parse(raw.toString('utf8')) as unknown;
      this.expectValid(checkRequest(template, method, 'application/json', parsed));
      return parsed;
    };
    switch (`${method} ${template}`) {
      case 'GET /protocols': {
        const data = [...this.protocols.values()].map((p) => this.protocolBody(p));
        return [200, { data, meta: { cursor: 0, totalLength: data.length } }];
      }
      case 'POST /protocols':
        return [201, { data: this.protocolBody(await this.upload(req, raw)) }];
      case 'GET /protocols/{protocolId}': {
        const protocol = this.protocol(params[0]!);
        const referencingRuns = [...this.runs.values()]
          .filter((r) => r.protocolId === protocol.id)
          .map((r) => ({ id: r.id, href: `/runs/${r.id}` }));
        return [200, { data: this.protocolBody(protocol), links: { referencingRuns } }];
      }
      case 'GET /protocols/{protocolId}/analyses/{analysisId}': {
        const protocol = this.protocol(params[0]!);
        if (params[1] !== protocol.analysisId)
          throw new HttpError(404, {
            errors: [{ id: 'AnalysisNotFound', title: 'Analysis Not Found', detail: params[1] }],
          });
        return [200, { data: this.analysisBody(protocol) }];
      }
      case 'GET /runs': {
        const data = [...this.runs.values()].map((r) => this.runBody(r));
        return [200, { data, links: {}, meta: { cursor: 0, totalLength: data.length } }];
      }
      case 'POST /runs': {
        const { data } = json() as { data: { protocolId?: string } };
        return [201, { data: this.runBody(this.createRun(data.protocolId)) }];
      }
      case 'GET /runs/{runId}':
        return [200, { data: this.runBody(this.run(params[0]!)) }];
      case 'POST /runs/{runId}/actions': {
        const { data } = json() as { data: { actionType: string } };
        return [201, { data: this.act(this.run(params[0]!), data.actionType) }];
      }
      case 'GET /runs/{runId}/commands': {
        const run = this.run(params[0]!);
        const cursor = Number(url.searchParams.get('cursor') ?? 0);
        const pageLength = Number(url.searchParams.get('pageLength') ?? 20);
        const data = run.commands.slice(cursor, cursor + pageLength).map(summary);
        return [200, { data, links: {}, meta: { cursor, totalLength: run.commands.length } }];
      }
    }
    throw new HttpError(404, { errors: [{ id: 'RouteNotFound', title: 'Not found', detail: template }] });
  }

  private async upload(req: IncomingMessage, raw: Buffer): Promise<FakeProtocol> {
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data'))
      this.expectValid([`POST /protocols: content-type ${contentType}, expected multipart/form-data`]);
    const form = await new Request('http://robot/protocols', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    }).formData();
    const files = form.getAll('files').filter((f) => typeof f !== 'string') as unknown as {
      name: string;
      text(): Promise<string>;
    }[];
    const key = form.get('key');
    this.expectValid(
      checkRequest('/protocols', 'POST', 'multipart/form-data', {
        files: files.map((f) => f.name),
        ...(typeof key === 'string' ? { key } : {}),
      }),
    );
    const file = files[0];
    if (!file)
      throw new HttpError(422, { errors: [{ id: 'ProtocolFilesInvalid', title: 'Invalid', detail: 'no file' }] });
    const protocol: FakeProtocol = {
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      fileName: file.name,
      source: await file.text(),
      analysisId: randomUUID(),
      ...(typeof key === 'string' ? { key } : {}),
    };
    this.protocols.set(protocol.id, protocol);
    const pending = this.options.analyse(protocol.source, protocol.fileName).then(
      (analysis) => {
        protocol.analysis = analysis;
      },
      (error: unknown) => {
        this.violations.push(`analysis of ${protocol.fileName} failed: ${(error as Error).message}`);
      },
    );
    this.pendingAnalyses.add(pending);
    void pending.finally(() => this.pendingAnalyses.delete(pending));
    return protocol;
  }

  private createRun(protocolId: string | undefined): FakeRun {
    if (!protocolId)
      throw new HttpError(422, { errors: [{ id: 'FileIdNotFound', title: 'Missing', detail: 'protocolId' }] });
    const protocol = this.protocols.get(protocolId);
    if (!protocol)
      throw new HttpError(404, {
        errors: [{ id: 'ProtocolNotFound', title: 'Protocol Not Found', detail: protocolId }],
      });
    for (const other of this.runs.values()) {
      if (other.current && other.status === 'running')
        throw new HttpError(409, {
          errors: [{ id: 'RunAlreadyActive', title: 'Run Already Active', detail: other.id }],
        });
      other.current = false;
    }
    const run: FakeRun = {
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      protocolId,
      status: 'idle',
      current: true,
      actions: [],
      errors: [],
      commands: [],
      labwareLoaded: false,
    };
    this.runs.set(run.id, run);
    return run;
  }

  private act(run: FakeRun, actionType: string): { id: string; createdAt: string; actionType: string } {
    if (actionType !== 'play' || run.status !== 'idle')
      throw new HttpError(409, {
        errors: [
          {
            id: 'RunActionNotAllowed',
            title: 'Run Action Not Allowed',
            detail: `${actionType} on a ${run.status} run`,
          },
        ],
      });
    const analysis = this.protocols.get(run.protocolId)!.analysis;
    if (!analysis)
      throw new HttpError(409, {
        errors: [{ id: 'RunActionNotAllowed', title: 'Not ready', detail: 'analysis pending' }],
      });
    const action = { id: randomUUID(), createdAt: new Date().toISOString(), actionType };
    run.actions.push(action);
    run.status = 'running';
    run.startedAt = new Date().toISOString();
    const failure = this.nextFailure;
    this.nextFailure = undefined;
    this.execute(run, analysis, failure);
    return action;
  }

  /** Carries out the analysis's commands a batch per tick, failing where told to. */
  private execute(run: FakeRun, analysis: ProtocolAnalysis, failure: RunFailure | undefined): void {
    let index = 0;
    const perTick = this.options.commandsPerTick ?? 100;
    const tick = () => {
      for (let n = 0; n < perTick && index < analysis.commands.length; n += 1, index += 1) {
        const planned = analysis.commands[index]!;
        const now = new Date().toISOString();
        const command: OpentronsCommand = {
          ...planned,
          id: randomUUID(),
          createdAt: now,
          startedAt: now,
          completedAt: now,
          status: 'succeeded',
          intent: 'protocol',
          notes: [],
        };
        if (planned.commandType === 'loadLabware') run.labwareLoaded = true;
        if (failure?.at(planned, index, analysis)) {
          const error = {
            id: randomUUID(),
            createdAt: now,
            isDefined: false,
            ...failure.error,
            errorInfo: {},
            wrappedErrors: [],
          };
          command.status = 'failed';
          command.error = error;
          delete command.result;
          run.commands.push(command);
          run.errors = [error];
          run.status = 'failed';
          run.completedAt = now;
          return;
        }
        run.commands.push(command);
      }
      if (index < analysis.commands.length) setTimeout(tick, 1);
      else {
        run.status = 'succeeded';
        run.completedAt = new Date().toISOString();
      }
    };
    setTimeout(tick, 1);
  }

  private protocol(id: string): FakeProtocol {
    const protocol = this.protocols.get(id);
    if (!protocol)
      throw new HttpError(404, { errors: [{ id: 'ProtocolNotFound', title: 'Protocol Not Found', detail: id }] });
    return protocol;
  }

  private run(id: string): FakeRun {
    const run = this.runs.get(id);
    if (!run) throw new HttpError(404, { errors: [{ id: 'RunNotFound', title: 'Run Not Found', detail: id }] });
    return run;
  }

  private protocolBody(p: FakeProtocol): unknown {
    return {
      id: p.id,
      createdAt: p.createdAt,
      files: [{ name: p.fileName, role: 'main' }],
      protocolType: 'python',
      robotType: 'OT-3 Standard',
      metadata: p.analysis?.metadata ?? {},
      analyses: [],
      analysisSummaries: [{ id: p.analysisId, status: p.analysis ? 'completed' : 'pending' }],
      ...(p.key === undefined ? {} : { key: p.key }),
      protocolKind: 'standard',
    };
  }

  private analysisBody(p: FakeProtocol): unknown {
    const a = p.analysis;
    if (!a) return { id: p.analysisId, status: 'pending', runTimeParameters: [] };
    return {
      id: p.analysisId,
      status: 'completed',
      result: a.result,
      robotType: 'OT-3 Standard',
      runTimeParameters: [],
      commands: a.commands,
      labware: a.labware,
      pipettes: a.pipettes,
      modules: a.modules,
      liquids: a.liquids,
      errors: a.errors,
    };
  }

  private runBody(r: FakeRun): unknown {
    const analysis = this.protocols.get(r.protocolId)?.analysis;
    const loaded = r.labwareLoaded && analysis;
    return {
      id: r.id,
      ok: true,
      createdAt: r.createdAt,
      status: r.status,
      current: r.current,
      actions: r.actions,
      errors: r.errors,
      hasEverEnteredErrorRecovery: false,
      pipettes: loaded ? analysis.pipettes : [],
      modules: [],
      labware: loaded ? analysis.labware : [],
      liquids: [],
      labwareOffsets: [],
      runTimeParameters: [],
      outputFileIds: [],
      protocolId: r.protocolId,
      ...(r.startedAt ? { startedAt: r.startedAt } : {}),
      ...(r.completedAt ? { completedAt: r.completedAt } : {}),
    };
  }
}

/** A run's command as `GET /runs/{id}/commands` lists it (RunCommandSummary: no `result`). */
function summary(c: OpentronsCommand): unknown {
  const { result: _result, ...rest } = c;
  return {
    id: rest.id,
    key: rest.key,
    commandType: rest.commandType,
    createdAt: rest.createdAt,
    startedAt: rest.startedAt,
    completedAt: rest.completedAt,
    status: rest.status,
    params: rest.params,
    intent: rest.intent,
    notes: rest.notes,
    ...(rest.error ? { error: rest.error } : {}),
  };
}
