import {
  credentials as grpcCredentials,
  loadPackageDefinition,
  type ChannelCredentials,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { z } from 'zod';
import type { RawReadout } from '../../domain/types';
import type { PlateReaderDriver, PlateStepReport, ReadPlateRequest, WellOutcome } from '../plate-driver';
import { PLATE_READER_PROTO, PLATE_READER_SERVICE, PROTO_DIR } from './protos';
import { SILA2_ERROR_TYPES, Sila2Fault, toSila2Fault, type DefinedErrorPolicy } from './sila-errors';

/**
 * A plate reader that speaks SiLA 2 (feature `org.cellos/instruments/PlateReader/v1`), over gRPC.
 *
 * One `readPlate` is one `ReadPlate` command with the step's operation key as Run Key: the reader
 * returns the first read for a repeated key, so a retried activity never reads (lyses) a plate
 * twice. Each SiLA reading becomes that well's outcome (an error type on a reading fails only that
 * well); errors of the call become `Sila2Fault`s (a LabFault): transient when the server is not
 * reachable or could not read this time, permanent when it refused the request.
 */
export interface Sila2PlateReaderConfig {
  /** `host:port` of the SiLA 2 server, e.g. "127.0.0.1:50052". */
  address: string;
  /** Deadline of one ReadPlate call; a real read takes about a minute. Default 5 minutes. */
  readTimeoutMs?: number;
  /** Deadline of a property read. Default 5 s. */
  propertyTimeoutMs?: number;
  /** Default: plaintext, for a server started with `--insecure` on loopback. */
  credentials?: ChannelCredentials;
}

export interface ReaderStatus {
  state: 'Idle' | 'Reading';
  platesRead: number;
}

export interface Sila2PlateReader extends PlateReaderDriver {
  /** The reader's `ReaderIdentity` property (make, model, serial). */
  identity(): Promise<string>;
  status(): Promise<ReaderStatus>;
}

/** The feature's defined execution errors: only "could not read this time" is worth a retry. */
const DEFINED_ERRORS: DefinedErrorPolicy = {
  InvalidReadRequest: { type: SILA2_ERROR_TYPES.invalidOperation, permanent: true },
  RunKeyReused: { type: SILA2_ERROR_TYPES.invalidOperation, permanent: true },
  ReaderUnavailable: { type: SILA2_ERROR_TYPES.instrumentFault, permanent: false },
};

export function createSila2PlateReader(config: Sila2PlateReaderConfig): Sila2PlateReader {
  const Service = plateReaderService();
  const client = new Service(config.address, config.credentials ?? grpcCredentials.createInsecure());
  const readTimeoutMs = config.readTimeoutMs ?? 5 * 60_000;
  const propertyTimeoutMs = config.propertyTimeoutMs ?? 5_000;
  const call = <T>(method: string, request: object, timeoutMs: number, schema: z.ZodType<T>, what: string) =>
    unary(client, method, request, timeoutMs).then(
      (response) => {
        const parsed = schema.safeParse(response);
        if (parsed.success) return parsed.data;
        throw new Sila2Fault(
          SILA2_ERROR_TYPES.instrumentFault,
          `${what}: the SiLA 2 server's answer does not match the PlateReader feature: ${parsed.error.message}`,
          true,
          { kind: 'transport', grpcCode: 0 },
        );
      },
      (err: unknown) => {
        throw toSila2Fault(err, what, DEFINED_ERRORS);
      },
    );

  return {
    async readPlate(request: ReadPlateRequest): Promise<PlateStepReport<RawReadout>> {
      const what = `reading plate ${request.plateId} (${request.operationKey}) on the SiLA 2 reader at ${config.address}`;
      const response = await call(
        'ReadPlate',
        {
          RunKey: { value: request.operationKey },
          PlateId: { value: request.plateId },
          Assay: { value: request.assay },
          Wells: request.wells.map((well) => ({ WellName: { value: well } })),
          TreatmentHours: { value: request.treatmentHours },
        },
        readTimeoutMs,
        readPlateResponses,
        what,
      );
      return {
        operationKey: request.operationKey,
        wells: outcomesOf(request, response.Readings, what),
        instrumentSeconds: response.ReadSeconds.value,
      };
    },
    async identity() {
      const r = await call('Get_ReaderIdentity', {}, propertyTimeoutMs, readerIdentity, 'reading ReaderIdentity');
      return r.ReaderIdentity.value;
    },
    async status() {
      const r = await call('Get_ReaderStatus', {}, propertyTimeoutMs, readerStatus, 'reading ReaderStatus');
      const { State, PlatesRead } = r.ReaderStatus.Status;
      return { state: State.value, platesRead: PlatesRead.value };
    },
    async close() {
      client.close();
    },
  };
}

type Reading = z.infer<typeof wellReading>;

/** One outcome per requested well, in request order; a reader that answers other wells is broken. */
function outcomesOf(request: ReadPlateRequest, readings: Reading[], what: string): WellOutcome<RawReadout>[] {
  const byWell = new Map(readings.map((r) => [r.WellReading.Well.WellName.value, r.WellReading]));
  const asked = new Set(request.wells);
  const wrong =
    byWell.size !== readings.length ||
    readings.length !== request.wells.length ||
    request.wells.some((w) => !byWell.has(w)) ||
    [...byWell.keys()].some((w) => !asked.has(w));
  if (wrong)
    throw new Sila2Fault(
      SILA2_ERROR_TYPES.instrumentFault,
      `${what}: the reader answered wells [${[...byWell.keys()].join(', ')}] for [${request.wells.join(', ')}]`,
      true,
      { kind: 'transport', grpcCode: 0 },
    );
  return request.wells.map((well): WellOutcome<RawReadout> => {
    const r = byWell.get(well)!;
    return r.ErrorType.value
      ? { well, ok: false, failure: { type: r.ErrorType.value, message: r.ErrorMessage.value } }
      : { well, ok: true, value: { assay: request.assay, signal: r.Signal.value } };
  });
}

// The wire shapes (SiLA basic types are wrapper messages `{ value }`), checked at this edge.
const wrapped = <T extends z.ZodType>(value: T) => z.object({ value });
const wellReading = z.object({
  WellReading: z.object({
    Well: z.object({ WellName: wrapped(z.string()) }),
    Signal: wrapped(z.number()),
    ErrorType: wrapped(z.string()),
    ErrorMessage: wrapped(z.string()),
  }),
});
const readPlateResponses = z.object({
  Readings: z.array(wellReading),
  ReadSeconds: wrapped(z.number()),
  Repeated: wrapped(z.boolean()),
});
const readerIdentity = z.object({ ReaderIdentity: wrapped(z.string()) });
const readerStatus = z.object({
  ReaderStatus: z.object({
    Status: z.object({ State: wrapped(z.enum(['Idle', 'Reading'])), PlatesRead: wrapped(z.number()) }),
  }),
});

let service: ServiceClientConstructor | undefined;

function plateReaderService(): ServiceClientConstructor {
  if (service) return service;
  const definition = loadSync(PLATE_READER_PROTO, {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: Number,
    enums: String,
    // Scalars left at their default are not sent: without defaults a zero Signal or an empty
    // ErrorType would arrive as `{}` instead of `{ value: 0 }`.
    defaults: true,
    oneofs: true,
  });
  let node: GrpcObject | ServiceClientConstructor = loadPackageDefinition(definition);
  for (const part of PLATE_READER_SERVICE.split('.')) node = (node as GrpcObject)[part] as GrpcObject;
  service = node as unknown as ServiceClientConstructor;
  return service;
}

function unary(client: Client, method: string, request: object, timeoutMs: number): Promise<unknown> {
  const fn = (client as unknown as Record<string, UnaryMethod>)[method];
  if (!fn) throw new Error(`the PlateReader service has no method ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, request, { deadline: Date.now() + timeoutMs }, (err, response) =>
      err ? reject(err) : resolve(response),
    );
  });
}

type UnaryMethod = (
  request: object,
  options: { deadline: number },
  callback: (err: ServiceError | null, response?: unknown) => void,
) => unknown;
