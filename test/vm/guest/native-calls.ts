// Helpers of the guest tests that call the addon directly: its errors are data (code,
// errno, syscall, path), and every call must give back the descriptors it opened.
import fs from 'node:fs';
import { type NativeError, isNativeError } from '../../../src/nvme/native';

export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** The NativeError a call rejected with; anything else (or a resolution) is rethrown. */
export async function rejection(p: Promise<unknown>): Promise<NativeError> {
  const err = await p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  if (!isNativeError(err)) throw err;
  return err;
}
