/**
 * Volume sizes. CSI int64 fields arrive as decimal strings; they are parsed exactly and
 * anything beyond Number.MAX_SAFE_INTEGER is refused (OUT_OF_RANGE) rather than rounded.
 * Sizes are rounded UP to the device granularity (1 MiB: the RDS takes `file-size` in
 * bytes, but whole MiB keep the file, the NVMe namespace and filesystem tools aligned).
 * Pure.
 */
import { InvalidArgumentError, OutOfRangeError } from './errors';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** Device granularity: every volume size is a whole number of these. */
export const SIZE_GRANULARITY = MiB;
/** Smallest volume created when the request asks for less (configurable per driver). */
export const DEFAULT_MIN_VOLUME_BYTES = GiB;

/** Parse a CSI int64 (decimal string or number); '' / undefined / null = 0 (unset). */
export function parseInt64(value: unknown, what: string): number {
  if (value === undefined || value === null || value === '') return 0;
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^-?\d+$/.test(text)) {
    throw new InvalidArgumentError(`${what} must be a whole number of bytes`);
  }
  const big = BigInt(text);
  if (big < 0n) throw new InvalidArgumentError(`${what} must not be negative`);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new OutOfRangeError(`${what} is larger than this driver supports (2^53-1 bytes)`);
  }
  return Number(big);
}

export function roundUp(bytes: number, granularity = SIZE_GRANULARITY): number {
  return Math.ceil(bytes / granularity) * granularity;
}

export interface SizeRange {
  /** 0 = unset. */
  readonly requiredBytes: number;
  /** 0 = unset (no upper bound). */
  readonly limitBytes: number;
}

export function parseRange(
  range: { required_bytes?: unknown; limit_bytes?: unknown } | null | undefined,
): SizeRange {
  return {
    requiredBytes: parseInt64(range?.required_bytes, 'capacity_range.required_bytes'),
    limitBytes: parseInt64(range?.limit_bytes, 'capacity_range.limit_bytes'),
  };
}

/**
 * The size to create: at least `required`, at least `floorBytes` (the configured minimum,
 * or a content source's size), rounded up to the granularity, and within `limit`.
 * OUT_OF_RANGE when no such size exists.
 */
export function chooseSize(range: SizeRange, floorBytes: number): number {
  const { requiredBytes, limitBytes } = range;
  if (limitBytes > 0 && requiredBytes > limitBytes) {
    throw new OutOfRangeError(
      `capacity_range.required_bytes (${requiredBytes}) exceeds limit_bytes (${limitBytes})`,
    );
  }
  const size = roundUp(Math.max(requiredBytes, floorBytes, 1));
  if (!Number.isSafeInteger(size)) throw new OutOfRangeError('requested size is too large');
  if (limitBytes > 0 && size > limitBytes) {
    throw new OutOfRangeError(
      `the smallest size this driver can create is ${size} bytes ` +
        `(minimum ${floorBytes}, in whole MiB), above capacity_range.limit_bytes (${limitBytes})`,
    );
  }
  return size;
}

/** Whether an existing volume of `sizeBytes` satisfies the range (CSI idempotency rule). */
export function satisfies(sizeBytes: number, range: SizeRange): boolean {
  return (
    sizeBytes >= range.requiredBytes && (range.limitBytes === 0 || sizeBytes <= range.limitBytes)
  );
}
