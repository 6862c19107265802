import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { LabFault } from '../../lab/driver';
import { SILA_FRAMEWORK_PROTO } from './protos';

/**
 * SiLA 2 errors as lab faults. A SiLA server reports an error as gRPC status ABORTED whose details
 * are a base64 `SiLAError` message (validation, defined execution, undefined execution or
 * framework error); anything else is the transport's (no server, connection lost, deadline).
 *
 * What is retried: the transport failing, and the reader saying it could not read this time
 * (nothing was read, and a repeated Run Key never reads twice). What is not: the reader refusing
 * the request itself (a validation error, a defined "bad request" error), which a retry repeats.
 */
export const SILA2_ERROR_TYPES = {
  /** No server at the address, or the connection dropped: transient. */
  unreachable: 'InstrumentUnreachable',
  /** The instrument failed this attempt (or answered nonsense): transient unless noted. */
  instrumentFault: 'InstrumentFault',
  /** The request was refused as given: permanent. */
  invalidOperation: 'InvalidOperation',
} as const;

export type SilaErrorKind =
  'validationError' | 'definedExecutionError' | 'undefinedExecutionError' | 'frameworkError' | 'transport';

export interface SilaErrorDetail {
  kind: SilaErrorKind;
  /** gRPC status code of the call. */
  grpcCode: number;
  /** Fully qualified identifier of a defined execution error (…/DefinedExecutionError/RunKeyReused). */
  errorIdentifier?: string;
  /** Fully qualified identifier of the parameter a validation error is about. */
  parameter?: string;
  /** Framework error type, e.g. "INVALID_METADATA". */
  frameworkErrorType?: string;
}

export class Sila2Fault extends LabFault {
  constructor(
    type: string,
    message: string,
    permanent: boolean,
    readonly sila: SilaErrorDetail,
  ) {
    super(type, message, permanent, 'plate reader');
    this.name = 'Sila2Fault';
  }
}

/** How a defined execution error of a feature is treated, by its bare identifier. */
export type DefinedErrorPolicy = Record<string, { type: string; permanent: boolean }>;

interface DecodedSilaError {
  validationError?: { parameter?: string; message?: string };
  definedExecutionError?: { errorIdentifier?: string; message?: string };
  undefinedExecutionError?: { message?: string };
  frameworkError?: { errorType?: string; message?: string };
}

let silaErrorType: protobuf.Type | undefined;

export function decodeSilaError(err: ServiceError): DecodedSilaError | undefined {
  if (err.code !== grpcStatus.ABORTED || !err.details) return undefined;
  silaErrorType ??= protobuf.loadSync(SILA_FRAMEWORK_PROTO).lookupType('sila2.org.silastandard.SiLAError');
  try {
    const message = silaErrorType.decode(Buffer.from(err.details, 'base64'));
    const decoded = silaErrorType.toObject(message, { enums: String, defaults: true }) as DecodedSilaError;
    const hasOne =
      decoded.validationError ||
      decoded.definedExecutionError ||
      decoded.undefinedExecutionError ||
      decoded.frameworkError;
    return hasOne ? decoded : undefined;
  } catch {
    return undefined;
  }
}

/** Transport codes worth a retry: the server was not reached, or the call did not finish. */
const TRANSIENT_CODES = new Set<number>([
  grpcStatus.UNAVAILABLE,
  grpcStatus.DEADLINE_EXCEEDED,
  grpcStatus.RESOURCE_EXHAUSTED,
  grpcStatus.CANCELLED,
  grpcStatus.ABORTED,
  grpcStatus.INTERNAL,
  grpcStatus.UNKNOWN,
]);

export function toSila2Fault(err: unknown, what: string, definedErrors: DefinedErrorPolicy): Error {
  if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
  const grpcCode = err.code;
  const silaError = decodeSilaError(err);
  const { invalidOperation, instrumentFault, unreachable } = SILA2_ERROR_TYPES;
  if (!silaError) {
    const transient = TRANSIENT_CODES.has(grpcCode);
    return new Sila2Fault(
      transient ? unreachable : instrumentFault,
      `${what}: the SiLA 2 server ${transient ? 'could not be reached or did not answer' : 'refused the call'} ` +
        `(gRPC ${grpcStatus[grpcCode] ?? grpcCode}: ${err.details})`,
      !transient,
      { kind: 'transport', grpcCode },
    );
  }
  if (silaError.validationError) {
    const { parameter = '', message = '' } = silaError.validationError;
    return new Sila2Fault(invalidOperation, `${what}: parameter ${bare(parameter)} rejected: ${message}`, true, {
      kind: 'validationError',
      grpcCode,
      parameter,
    });
  }
  if (silaError.definedExecutionError) {
    const { errorIdentifier = '', message = '' } = silaError.definedExecutionError;
    // An error this client does not know (a newer feature version): not worth repeating blindly.
    const policy = definedErrors[bare(errorIdentifier)] ?? { type: instrumentFault, permanent: true };
    return new Sila2Fault(policy.type, `${what}: ${bare(errorIdentifier)}: ${message}`, policy.permanent, {
      kind: 'definedExecutionError',
      grpcCode,
      errorIdentifier,
    });
  }
  if (silaError.undefinedExecutionError) {
    // The server failed unexpectedly; it remembers only completed reads, so a retry is safe.
    return new Sila2Fault(
      instrumentFault,
      `${what}: the server failed (${silaError.undefinedExecutionError.message ?? ''})`,
      false,
      { kind: 'undefinedExecutionError', grpcCode },
    );
  }
  const { errorType = '', message = '' } = silaError.frameworkError ?? {};
  return new Sila2Fault(invalidOperation, `${what}: SiLA framework error ${errorType}: ${message}`, true, {
    kind: 'frameworkError',
    grpcCode,
    frameworkErrorType: errorType,
  });
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}

/** "org.cellos/instruments/PlateReader/v1/DefinedExecutionError/RunKeyReused" → "RunKeyReused". */
function bare(identifier: string): string {
  return identifier.slice(identifier.lastIndexOf('/') + 1);
}
