/**
 * errno from the addon → DomainError, in one table per operation. Messages say what to
 * check, because the kernel's errno is all the node learns (the reason for an EIO is only
 * in the target's and this host's dmesg).
 */
import {
  DomainError,
  FailedPreconditionError,
  InternalError,
  NotFoundError,
  UnavailableError,
} from '../domain/errors';
import { isNativeError } from './native';

export interface ConnectContext {
  readonly nqn: string;
  readonly traddr: string;
  readonly trsvcid: number;
  readonly hostnqn: string;
  readonly fabricsPath: string;
}

const NETWORK_ERRNOS = new Set([
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ECONNRESET',
  'ECONNABORTED',
  'EADDRNOTAVAIL',
  'EAGAIN',
]);

/** Maps a rejected connect (other than EALREADY, which attach handles as reuse). */
export function mapConnectError(err: unknown, ctx: ConnectContext): DomainError {
  if (err instanceof DomainError) return err;
  if (!isNativeError(err)) {
    return new InternalError('NVMe connect failed unexpectedly', { nqn: ctx.nqn }, { cause: err });
  }
  const where = `${ctx.traddr}:${ctx.trsvcid}`;
  const context = { nqn: ctx.nqn, target: where, errno: err.code, syscall: err.syscall };
  const opening = err.syscall === 'open';
  switch (err.code) {
    case 'ECONNREFUSED':
      return new UnavailableError(`NVMe/TCP target not listening at ${where}`, context, {
        cause: err,
      });
    case 'EIO':
      return new UnavailableError(
        `NVMe/TCP target at ${where} rejected the connect to ${ctx.nqn}: either the subsystem ` +
          `NQN does not exist there, or host ${ctx.hostnqn} is not in its allowed hosts`,
        context,
        { cause: err },
      );
    case 'EINVAL':
      return new InternalError(
        'the kernel rejected the NVMe connect option string (invalid or unsupported option)',
        context,
        { cause: err },
      );
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
      if (opening) {
        return new FailedPreconditionError(
          `${ctx.fabricsPath} is missing: the nvme-fabrics/nvme-tcp kernel modules are not loaded ` +
            '(modprobe nvme-tcp)',
          context,
          { cause: err },
        );
      }
      break;
    case 'EACCES':
    case 'EPERM':
      return new FailedPreconditionError(
        `no permission to use ${ctx.fabricsPath}: the node plugin must run privileged as root`,
        context,
        { cause: err },
      );
    default:
      if (NETWORK_ERRNOS.has(err.code)) {
        return new UnavailableError(
          `cannot reach NVMe/TCP target at ${where} (${err.code})`,
          context,
          {
            cause: err,
          },
        );
      }
  }
  return new InternalError(`NVMe connect failed: ${err.code} in ${err.syscall}`, context, {
    cause: err,
  });
}

/**
 * Maps a rejected controller attribute write (disconnect, rescan, setAttribute). A missing
 * controller directory means it is already gone: callers that are idempotent check
 * isGoneError first.
 */
export function mapControllerWriteError(err: unknown, what: string, instance: number): DomainError {
  if (err instanceof DomainError) return err;
  const context = { controller: `nvme${instance}` };
  if (isGoneError(err)) {
    return new NotFoundError(`NVMe controller nvme${instance} no longer exists`, context, {
      cause: err,
    });
  }
  if (
    isNativeError(err) &&
    (err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS')
  ) {
    return new FailedPreconditionError(
      `no permission to ${what} nvme${instance} (${err.code}): sysfs must be writable (privileged)`,
      context,
      { cause: err },
    );
  }
  if (isNativeError(err) && err.code === 'EBUSY') {
    return new UnavailableError(`nvme${instance} is busy; cannot ${what} now`, context, {
      cause: err,
    });
  }
  const code = isNativeError(err) ? err.code : 'unknown error';
  return new InternalError(`failed to ${what} nvme${instance}: ${code}`, context, { cause: err });
}

/** ENOENT/ENODEV from a controller attribute: the controller was removed already. */
export function isGoneError(err: unknown): boolean {
  return isNativeError(err) && (err.code === 'ENOENT' || err.code === 'ENODEV');
}
