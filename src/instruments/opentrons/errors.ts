/**
 * What can go wrong between a plate step and an Opentrons run, split the way activities need it:
 * `nonRetryable` errors are permanent (retrying the same request can only fail the same way),
 * the rest are transient (the robot or the network was unavailable) and a retry, which first looks
 * for what the failed attempt may already have done, is safe.
 */

/** One error as the Opentrons analyzer and robot report it (`ErrorOccurrence` in the HTTP API). */
export interface OpentronsErrorOccurrence {
  errorType: string;
  errorCode: string;
  detail: string;
  errorInfo?: Record<string, unknown>;
  wrappedErrors?: OpentronsErrorOccurrence[];
}

/** The innermost error of a wrapped chain: the analyzer's most specific reason. */
export function rootCause(error: OpentronsErrorOccurrence): OpentronsErrorOccurrence {
  let current = error;
  while (current.wrappedErrors && current.wrappedErrors.length > 0) current = current.wrappedErrors[0]!;
  return current;
}

export function describeOccurrence(error: OpentronsErrorOccurrence): string {
  const cause = rootCause(error);
  return `${cause.errorType} (error ${cause.errorCode}): ${cause.detail}`;
}

/** The vendor's analyzer (ours before upload, or the robot's after) refused the protocol. Permanent. */
export class ProtocolRejectedError extends Error {
  readonly type = 'ProtocolRejected';
  readonly nonRetryable = true;

  constructor(
    readonly operationKey: string,
    readonly analyzedBy: 'local analyzer' | 'robot',
    readonly errors: OpentronsErrorOccurrence[],
  ) {
    const reasons = errors.map(describeOccurrence).join('; ') || 'analysis result not ok, no error given';
    super(`${operationKey}: the Opentrons ${analyzedBy} rejected the protocol: ${reasons}`);
    this.name = 'ProtocolRejectedError';
  }
}

/** The request cannot be turned into a protocol on this deck (bad field, impossible dilution). Permanent. */
export class PlateStepRefusedError extends Error {
  readonly type = 'InvalidOperation';
  readonly nonRetryable = true;

  constructor(
    readonly operationKey: string,
    reason: string,
  ) {
    super(`${operationKey}: refused before any protocol was made: ${reason}`);
    this.name = 'PlateStepRefusedError';
  }
}

/** The robot answered an HTTP request with an error, or did not answer. */
export class RobotRequestError extends Error {
  readonly type = 'RobotUnavailable';

  constructor(
    readonly method: string,
    readonly path: string,
    /** HTTP status, or undefined when the robot could not be reached. */
    readonly status: number | undefined,
    detail: string,
    /** 4xx answers other than 409 (robot busy) mean our request is wrong: retrying cannot help. */
    readonly nonRetryable = status !== undefined && status >= 400 && status < 500 && status !== 409,
  ) {
    super(`${method} ${path} → ${status ?? 'no answer'}: ${detail}`);
    this.name = 'RobotRequestError';
  }
}

/** The robot's state for a key is not one this driver can continue from (e.g. several runs). Permanent. */
export class RobotStateError extends Error {
  readonly type = 'InvalidOperation';
  readonly nonRetryable = true;

  constructor(
    readonly operationKey: string,
    reason: string,
  ) {
    super(`${operationKey}: ${reason}`);
    this.name = 'RobotStateError';
  }
}
