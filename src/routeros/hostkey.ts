/**
 * A pinned host key given as a key rather than a fingerprint (the Go driver's Secret key
 * `rds-host-key`): an OpenSSH public key line (`ssh-ed25519 AAAA... comment`, optionally
 * with known_hosts host names or authorized_keys options in front) or the raw SSH wire
 * blob. Pure: text or bytes in, the `SHA256:` fingerprint the session pins out.
 */
import { fingerprintOf } from './fingerprint';

const KEY_TYPES = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|rsa-sha2-(256|512))$/;

/** The key type a wire blob names (its first length-prefixed string), or undefined. */
function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || blob.length < 4 + n) return undefined;
  return blob.subarray(4, 4 + n).toString('latin1');
}

/**
 * The fingerprint of the first key in `data`. Throws Error naming the problem (never the
 * key) when no key is found or a line's type and blob disagree.
 */
export function hostKeyFingerprintOf(data: Buffer): string {
  const type = blobType(data);
  if (type !== undefined && KEY_TYPES.test(type)) return fingerprintOf(data);
  for (const line of data.toString('utf8').split(/\r?\n/)) {
    const words = line.trim().split(/\s+/);
    const at = words.findIndex((w) => KEY_TYPES.test(w));
    if (line.trim().startsWith('#') || at < 0 || words[at + 1] === undefined) continue;
    const blob = Buffer.from(words[at + 1]!, 'base64');
    if (blobType(blob) !== words[at]) {
      throw new Error('host key line: the key type and the base64 key do not agree');
    }
    return fingerprintOf(blob);
  }
  throw new Error('no SSH public key found (expected "<type> <base64>" or a wire-format key)');
}
