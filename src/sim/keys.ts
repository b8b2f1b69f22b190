/**
 * SSH key generation for the simulator and the embedded (--sim) setup.
 *
 * ssh2's generateKeyPairSync('ed25519') now and then returns an OpenSSH private key that
 * its own parser then rejects ("Malformed OpenSSH private key"); a host or client key like
 * that makes the simulator or the driver fail at start. Every generated pair is therefore
 * parsed back before use and regenerated when the parser refuses it.
 */
import { utils } from 'ssh2';

export interface SshKeyPair {
  readonly private: string;
  readonly public: string;
}

const MAX_ATTEMPTS = 20;

export function generateSshKeyPair(
  type: 'ed25519' | 'rsa' = 'ed25519',
  comment?: string,
): SshKeyPair {
  for (let i = 0; i < MAX_ATTEMPTS; i++) {
    const opts = comment === undefined ? {} : { comment };
    const pair =
      type === 'rsa'
        ? utils.generateKeyPairSync('rsa', { bits: 2048, ...opts })
        : utils.generateKeyPairSync('ed25519', opts);
    if (
      !(utils.parseKey(pair.private) instanceof Error) &&
      !(utils.parseKey(pair.public) instanceof Error)
    ) {
      return { private: pair.private, public: pair.public };
    }
  }
  throw new Error(`could not generate a parseable ${type} SSH key in ${MAX_ATTEMPTS} attempts`);
}
