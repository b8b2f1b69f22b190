import { createHash } from 'node:crypto';

/** `SHA256:<base64 without padding>` of a raw host key blob, as `ssh-keygen -l` prints it. */
export function fingerprintOf(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}
