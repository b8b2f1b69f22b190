import t from 'tap';
import { utils } from 'ssh2';
import { hostKeyFingerprintOf } from '../../../src/routeros/hostkey';
import { fingerprintOf } from '../../../src/routeros/fingerprint';
import { generateSshKeyPair } from '../../../src/sim/keys';

t.test('a host key as a key line, a known_hosts line or wire format', async (t) => {
  const pair = generateSshKeyPair('ed25519');
  const parsed = utils.parseKey(pair.public);
  if (parsed instanceof Error) throw parsed;
  const blob = (Array.isArray(parsed) ? parsed[0]! : parsed).getPublicSSH();
  const want = fingerprintOf(blob);
  const line = pair.public.trim();
  t.equal(hostKeyFingerprintOf(Buffer.from(line)), want, 'authorized_keys line');
  t.equal(hostKeyFingerprintOf(Buffer.from(`# c\n10.0.0.1 ${line}\n`)), want, 'known_hosts line');
  t.equal(hostKeyFingerprintOf(blob), want, 'wire format');
  t.throws(() => hostKeyFingerprintOf(Buffer.from('SHA256:abc')), /no SSH public key/);
  const [type, b64] = line.split(' ');
  const wrong = `ssh-rsa ${b64}`;
  t.ok(type);
  t.throws(() => hostKeyFingerprintOf(Buffer.from(wrong)), /do not agree/);
});
