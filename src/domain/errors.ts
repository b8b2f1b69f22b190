/**
 * Typed domain errors. Every failure that crosses a use-case boundary is a DomainError
 * with a code from this closed union; src/csi/status.ts maps each code to exactly one gRPC
 * status. Anything else that escapes a handler is treated as INTERNAL with a generic message.
 */
export type DomainErrorCode =
  | 'invalid-argument'
  | 'not-found'
  | 'already-exists'
  | 'failed-precondition'
  | 'out-of-range'
  | 'resource-exhausted'
  | 'aborted'
  | 'unavailable'
  | 'deadline-exceeded'
  | 'cancelled'
  | 'unimplemented'
  | 'internal';

/** Context carried with an error into logs (never into the client-facing message). */
export interface ErrorContext {
  readonly volumeId?: string;
  readonly nodeId?: string;
  readonly snapshotId?: string;
  readonly [key: string]: unknown;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('invalid-argument', message, context, options);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('not-found', message, context, options);
  }
}

export class AlreadyExistsError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('already-exists', message, context, options);
  }
}

export class FailedPreconditionError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('failed-precondition', message, context, options);
  }
}

export class OutOfRangeError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('out-of-range', message, context, options);
  }
}

export class ResourceExhaustedError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('resource-exhausted', message, context, options);
  }
}

export class AbortedError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('aborted', message, context, options);
  }
}

export class UnavailableError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('unavailable', message, context, options);
  }
}

export class DeadlineExceededError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('deadline-exceeded', message, context, options);
  }
}

export class CancelledError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('cancelled', message, context, options);
  }
}

export class UnimplementedError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('unimplemented', message, context, options);
  }
}

/** An internal error whose message is safe to show (it names no secrets). */
export class InternalError extends DomainError {
  constructor(message: string, context?: ErrorContext, options?: { cause?: unknown }) {
    super('internal', message, context, options);
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
