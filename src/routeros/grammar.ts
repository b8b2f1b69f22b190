/**
 * Grammars for every identifier and value that reaches the RouterOS CLI, and the quoting
 * rule for values. Everything here is pure; each check throws InvalidArgumentError, so a
 * command with a bad argument is never built, let alone sent.
 */
import { InvalidArgumentError } from '../domain/errors';

/**
 * Slot: starts with a letter (so `:serialize to=json` never turns it into a number), then
 * `[a-z0-9-]`, at most 100 characters, which keeps `<nqn prefix>:<slot>` within 223 bytes.
 */
const SLOT = /^[a-z][a-z0-9-]{0,99}$/;
const SLOT_PREFIX = /^[a-z0-9-]{0,100}$/;
/** One path segment: no spaces, no metacharacters, not hidden (so never `.` or `..`). */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const MAX_PATH = 512;
/** Subsystem NQN: `nqn.yyyy-mm.<reverse domain>:<name>`, lower case (RouterOS shows it so). */
const SUBSYSTEM_NQN = /^nqn\.\d{4}-\d{2}\.[a-z0-9-]+(\.[a-z0-9-]+)*:[a-z0-9._:-]+$/;
/** Host NQN: as above but the name part may be mixed case (UUID forms vary). */
const HOST_NQN = /^nqn\.\d{4}-\d{2}\.[a-z0-9-]+(\.[a-z0-9-]+)*:[A-Za-z0-9._:-]+$/;
export const MAX_NQN_BYTES = 223;
/** Characters that may appear in a value without quotes. */
const BARE = /^[A-Za-z0-9._/-]+$/;

function describe(value: unknown): string {
  return typeof value === 'string' ? `${value.length}-character string` : typeof value;
}

export function validateSlot(slot: unknown, what = 'slot'): string {
  if (typeof slot !== 'string' || !SLOT.test(slot)) {
    throw new InvalidArgumentError(
      `${what} must match [a-z][a-z0-9-]{0,99} (got a ${describe(slot)})`,
    );
  }
  return slot;
}

export function validateSlotPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !SLOT_PREFIX.test(prefix)) {
    throw new InvalidArgumentError(`slot prefix must match [a-z0-9-]{0,100}`);
  }
  return prefix;
}

/**
 * Normalise the configured pool base path: no leading or trailing `/`, every segment safe.
 * Throws on anything else (a misconfiguration is reported, never silently fixed up).
 */
export function normalizeBasePath(base: unknown): string {
  if (typeof base !== 'string') throw new InvalidArgumentError('pool base path must be a string');
  const trimmed = base.replace(/^\/+/, '').replace(/\/+$/, '');
  checkSegments(trimmed, 'pool base path');
  return trimmed;
}

function checkSegments(path: string, what: string): string[] {
  if (path.length === 0 || path.length > MAX_PATH) {
    throw new InvalidArgumentError(`${what} must be 1 to ${MAX_PATH} characters`);
  }
  const segments = path.split('/');
  for (const s of segments) {
    if (!SEGMENT.test(s)) {
      throw new InvalidArgumentError(
        `${what} must be segments of [A-Za-z0-9._-] (not starting with '.') separated by single '/'`,
      );
    }
  }
  return segments;
}

/**
 * A path strictly under `base` (already normalised). A leading `/` is accepted and dropped,
 * because the device shows paths without it. Returns the normalised path.
 */
export function validatePoolPath(
  path: unknown,
  base: string,
  opts: { img?: boolean } = {},
): string {
  if (typeof path !== 'string') throw new InvalidArgumentError('file path must be a string');
  const p = path.replace(/^\/+/, '');
  checkSegments(p, 'file path');
  if (!p.startsWith(base + '/')) {
    throw new InvalidArgumentError(`file path must lie under the pool base path ${base}`);
  }
  if (opts.img === true && !p.endsWith('.img')) {
    throw new InvalidArgumentError('disk file path must end in .img');
  }
  return p;
}

/** A directory equal to or under `base`. */
export function validatePoolDir(path: unknown, base: string): string {
  if (typeof path !== 'string') throw new InvalidArgumentError('directory must be a string');
  const p = path.replace(/^\/+/, '').replace(/\/+$/, '');
  checkSegments(p, 'directory');
  if (p !== base && !p.startsWith(base + '/')) {
    throw new InvalidArgumentError(`directory must lie under the pool base path ${base}`);
  }
  return p;
}

export function validateSubsystemNqn(nqn: unknown): string {
  if (
    typeof nqn !== 'string' ||
    Buffer.byteLength(nqn) > MAX_NQN_BYTES ||
    !SUBSYSTEM_NQN.test(nqn)
  ) {
    throw new InvalidArgumentError(
      `subsystem NQN must be nqn.yyyy-mm.<domain>:<name> in lower case, at most ${MAX_NQN_BYTES} bytes`,
    );
  }
  return nqn;
}

export function validateHostNqn(nqn: unknown): string {
  if (typeof nqn !== 'string' || Buffer.byteLength(nqn) > MAX_NQN_BYTES || !HOST_NQN.test(nqn)) {
    throw new InvalidArgumentError(
      `host NQN must be nqn.yyyy-mm.<domain>:<name>, at most ${MAX_NQN_BYTES} bytes`,
    );
  }
  return nqn;
}

/** A size in bytes: a positive safe integer (sent exactly, never rounded). */
export function validateSize(size: unknown, what = 'size'): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
    throw new InvalidArgumentError(`${what} must be a positive whole number of bytes`);
  }
  return size;
}

export function validatePort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('port must be an integer from 1 to 65535');
  }
  return port;
}

/**
 * Render a string as a RouterOS value: bare when it is only `[A-Za-z0-9._/-]`, otherwise in
 * double quotes with `\`, `"`, `$` and `?` escaped. Control characters and anything outside
 * printable ASCII are refused (the console has no reliable escaping for them).
 */
export function quote(value: string): string {
  if (BARE.test(value)) return value;
  if (!/^[\x20-\x7e]*$/.test(value)) {
    throw new InvalidArgumentError('value contains control or non-ASCII characters');
  }
  return '"' + value.replace(/[\\"$?]/g, (c) => '\\' + c) + '"';
}

/**
 * A literal for a RouterOS `~` (POSIX extended) regular expression. Only validated
 * identifiers and paths are ever passed, so `.` is the only metacharacter to neutralise;
 * anything else outside `[A-Za-z0-9_/-]` is refused rather than escaped.
 */
export function regexLiteral(value: string): string {
  if (!/^[A-Za-z0-9._/-]*$/.test(value)) {
    throw new InvalidArgumentError('pattern contains characters outside [A-Za-z0-9._/-]');
  }
  return value.replace(/\./g, '[.]');
}
