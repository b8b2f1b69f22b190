import { status as Status } from '@grpc/grpc-js';
import type { DomainErrorCode } from '../domain/errors';
import { isDomainError } from '../domain/errors';

/** The one table from domain error codes to gRPC status codes. */
export const STATUS_BY_CODE: Readonly<Record<DomainErrorCode, Status>> = Object.freeze({
  'invalid-argument': Status.INVALID_ARGUMENT,
  'not-found': Status.NOT_FOUND,
  'already-exists': Status.ALREADY_EXISTS,
  'failed-precondition': Status.FAILED_PRECONDITION,
  'out-of-range': Status.OUT_OF_RANGE,
  'resource-exhausted': Status.RESOURCE_EXHAUSTED,
  aborted: Status.ABORTED,
  unavailable: Status.UNAVAILABLE,
  'deadline-exceeded': Status.DEADLINE_EXCEEDED,
  cancelled: Status.CANCELLED,
  unimplemented: Status.UNIMPLEMENTED,
  internal: Status.INTERNAL,
});

export interface MappedStatus {
  readonly code: Status;
  readonly details: string;
  /** True when the error was not a DomainError: its stack belongs in the log. */
  readonly unexpected: boolean;
}

/**
 * Maps any thrown value to the status the client sees. Unknown errors never leak their
 * message (it may contain paths, commands or secrets): the client gets a generic text.
 */
export function toStatus(err: unknown): MappedStatus {
  if (isDomainError(err)) {
    return { code: STATUS_BY_CODE[err.code], details: err.message, unexpected: false };
  }
  return {
    code: Status.INTERNAL,
    details: 'internal error; see the driver log for details',
    unexpected: true,
  };
}

export function statusName(code: Status): string {
  return Status[code] ?? String(code);
}
