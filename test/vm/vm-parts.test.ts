// Host-only checks of the VM test bed's pure parts: no QEMU needed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createLink, detectAccel } from './accel';
import { ENV, guestEnv, notInGuestReason } from './guest/env';
import { imagePath, parseLdd, runTool } from './host-tools';
import type { VmImage } from './image';
import {
  benchLine,
  parseBenchRows,
  runCommand,
  scriptWithEnv,
  SerialDemux,
  shellQuote,
  type SerialEvent,
} from './protocol';
import { kernelCmdline, qemuArgs, type QemuSpec } from './qemu';
import { hostNqnFor } from './topology';

const image: VmImage = {
  dir: '/c/k',
  kernel: '/c/k/vmlinux',
  boot: 'pvh',
  initrd: '/c/k/initrd.cpio',
  kernelVersion: '6.1.0-1-amd64',
  key: '0123456789abcdef',
};

function demux(chunks: string[]): SerialEvent[] {
  const events: SerialEvent[] = [];
  const d = new SerialDemux((e) => events.push(e));
  for (const c of chunks) d.push(c);
  d.flush();
  return events;
}

t.test('serial demux: ready, text by line, exit marker even after a partial line', async (t) => {
  t.same(demux(['@@REA', 'DY 4.25\r\nhel', 'lo\nno newline@@EXIT ab12 3\n', 'tail']), [
    { kind: 'ready', uptimeSec: 4.25 },
    { kind: 'text', text: 'hello\n' },
    { kind: 'text', text: 'no newline' },
    { kind: 'exit', id: 'ab12', code: 3 },
    { kind: 'text', text: 'tail' },
  ]);
  t.same(demux(['@@EXIT zz 1\n']), [{ kind: 'text', text: '@@EXIT zz 1\n' }], 'ids are hex only');
});

t.test('run command carries the script in base64 on one line', async (t) => {
  const line = runCommand('abc', 'echo "a\nb"');
  t.match(line, /^@@RUN abc [A-Za-z0-9+/=]+\n$/);
  t.equal(Buffer.from(line.split(' ')[2]!.trim(), 'base64').toString(), 'echo "a\nb"');
});

t.test('shell quoting and env export', async (t) => {
  t.equal(shellQuote("it's"), `'it'\\''s'`);
  t.equal(scriptWithEnv({ A: 'x y' }, 'run'), `export A='x y'\nrun\n`);
  t.throws(() => scriptWithEnv({ 'A-B': '1' }, 'run'), /bad environment name/);
});

t.test('bench rows round-trip; malformed rows throw', async (t) => {
  const rows = [
    { name: 'connect', value: 27.5, unit: 'ms' },
    { name: 'mkfs', value: 400, unit: 'ms', note: 'ext4 1 GiB' },
  ];
  t.same(parseBenchRows(['noise', ...rows.map(benchLine), '@@BENCHx'].join('\n')), rows);
  t.throws(() => parseBenchRows('@@BENCH {"name":"x","value":"1","unit":"ms"}'), /malformed/);
});

const spec: QemuSpec = {
  image,
  accel: 'tcg',
  name: 'a',
  memoryMiB: 1024,
  cpus: 1,
  consoleLog: '/tmp/x/console.log',
  shares: [{ hostPath: '/work/main', guestPath: '/work/main', readOnly: true }],
  forwards: [{ hostPort: 40000, guestPort: 2222 }],
  link: { localPort: 5000, remotePort: 5001, address: '10.77.0.1/24', mac: '52:54:00:77:00:01' },
};

t.test(
  'qemu arguments: tcg, rng, restricted user net with forwards, udp link, 9p share',
  async (t) => {
    const args = qemuArgs(spec).join(' ');
    t.match(args, /-accel tcg /);
    t.match(args, /-device virtio-rng-pci/);
    t.match(args, /user,id=n0,restrict=on,hostfwd=tcp:127\.0\.0\.1:40000-:2222/);
    t.match(args, /socket,id=n1,udp=127\.0\.0\.1:5001,localaddr=127\.0\.0\.1:5000/);
    t.match(args, /local,path=\/work\/main,mount_tag=share0,security_model=none,readonly=on/);
    t.match(args, /-serial file:\/tmp\/x\/console\.log -serial stdio/);
    const cmdline = kernelCmdline(spec);
    t.match(cmdline, /rdsvm\.nic1=52:54:00:77:00:01,10\.77\.0\.1\/24/);
    t.match(cmdline, /rdsvm\.share0=share0,\/work\/main,ro/);
    t.throws(() =>
      qemuArgs({ ...spec, shares: [{ hostPath: '/a,b', guestPath: '/a', readOnly: true }] }),
    );
    t.throws(() => kernelCmdline({ ...spec, name: 'a b' }));
  },
);

t.test(
  'qemu arguments: a host service is a guestfwd running the relay per connection',
  async (t) => {
    const service = {
      guestAddress: '10.0.2.100',
      guestPort: 6443,
      hostPort: 41000,
      relay: ['/usr/bin/busybox', 'nc'],
    };
    const args = qemuArgs({ ...spec, hostServices: [service] });
    const net = args[args.indexOf('-netdev') + 1] ?? '';
    t.equal(
      net,
      'user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:40000-:2222' +
        ',guestfwd=tcp:10.0.2.100:6443-cmd:/usr/bin/busybox nc 127.0.0.1 41000',
    );
    t.throws(
      () => qemuArgs({ ...spec, hostServices: [{ ...service, relay: ['nc;', 'x'] }] }),
      /relay argument/,
    );
    t.throws(
      () => qemuArgs({ ...spec, hostServices: [{ ...service, guestAddress: '10.0.2.1,x' }] }),
      /guest address/,
    );
  },
);

t.test('ldd output parsing and merged-/usr image paths', async (t) => {
  const out = [
    '\tlinux-vdso.so.1 (0x00007ffd)',
    '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)',
    '\t/lib64/ld-linux-x86-64.so.2 (0x00007f)',
  ].join('\n');
  t.same(parseLdd(out, 'x'), ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  t.same(parseLdd('\tstatically linked\n', 'x'), []);
  t.throws(() => parseLdd('\tlibfoo.so => not found\n', 'bin'), /bin: libfoo/);
  t.equal(imagePath('/lib/x86_64-linux-gnu/libc.so.6'), 'usr/lib/x86_64-linux-gnu/libc.so.6');
  t.equal(imagePath('/usr/bin/node'), 'usr/bin/node');
  t.equal(imagePath('/etc/mke2fs.conf'), 'etc/mke2fs.conf');
});

t.test('host NQNs are stable per VM and distinct between VMs', async (t) => {
  t.equal(hostNqnFor('a'), hostNqnFor('a'));
  t.not(hostNqnFor('a'), hostNqnFor('b'));
  t.match(
    hostNqnFor('a'),
    /^nqn\.2014-08\.org\.nvmexpress:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/,
  );
});

t.test('guest environment', async (t) => {
  t.equal(guestEnv({}), null);
  t.match(notInGuestReason({}), /not inside a test VM/);
  t.same(guestEnv({ [ENV.name]: 'b', [ENV.roles]: 'node,bogus', [ENV.rdsAddress]: '10.77.0.1' }), {
    name: 'b',
    roles: ['node'],
    rdsAddress: '10.77.0.1',
  });
});

t.test('accelerator override and link ends', async (t) => {
  const never = () => Promise.reject(new Error('must not probe'));
  t.equal(await detectAccel(image, never, { RDS_VM_ACCEL: 'tcg' }), 'tcg');
  t.equal(await detectAccel(image, never, { RDS_VM_ACCEL: 'kvm' }), 'kvm');
  const [a, b] = await createLink();
  t.equal(a.localPort, b.remotePort);
  t.equal(b.localPort, a.remotePort);
  t.not(a.mac, b.mac);
});

function kvmUsable(): boolean {
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

t.test(
  'KVM probe: fast boot picks kvm, slow or failed boot picks tcg; result cached',
  { skip: kvmUsable() ? false : 'no usable /dev/kvm on this host' },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rdsvm-accel-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const img = (n: string): VmImage => ({
      ...image,
      dir: path.join(dir, n, 'k'),
      kernelVersion: n,
    });
    fs.mkdirSync(path.join(dir, 'fast'));
    fs.mkdirSync(path.join(dir, 'slow'));
    let stops = 0;
    const fake = (bootMs: number) => () =>
      Promise.resolve({
        bootMs,
        exec: () => Promise.resolve({ exitCode: 0 }),
        stop: () => {
          stops++;
          return Promise.resolve();
        },
      });
    t.equal(await detectAccel(img('fast'), fake(1_000), {}), 'kvm');
    const never = () => Promise.reject(new Error('must not probe again'));
    t.equal(await detectAccel(img('fast'), never, {}), 'kvm', 'cached');
    t.equal(await detectAccel(img('slow'), fake(30_000), {}), 'tcg', 'crawling KVM is refused');
    t.equal(stops, 2, 'probe VMs are stopped');
    fs.rmSync(path.join(dir, 'slow', 'accel.json'));
    t.equal(await detectAccel(img('slow'), never, {}), 'tcg', 'failed boot means tcg');
  },
);

t.test(
  'a tool that stops reading its input early is judged by its exit status, not EPIPE',
  async (t) => {
    // xz --single-stream does this with a bzImage; an unhandled EPIPE used to crash the build.
    for (let i = 0; i < 5; i++) {
      const r = await runTool('head', ['-c', '4'], { input: Buffer.alloc(32 * 1024 * 1024, 0x61) });
      t.equal(r.stdout.toString(), 'aaaa');
    }
  },
);
