// The runner's contract on a real VM: exit codes and output come back, env is exported,
// a timed-out command kills the VM, and no QEMU process is left behind.
import t from 'tap';
import { projectRoot } from './host-tools';
import { leftoverVmPids, runVm, Vm } from './runner';
import { suiteImage, vmSuiteSkipReason } from './suite-util';

t.setTimeout(10 * 60_000);

const skip = vmSuiteSkipReason();
if (skip !== null) console.log(`# runner VM test skipped: ${skip}`);

t.test('runner on a real VM', { skip: skip ?? false }, async (t) => {
  const image = await suiteImage((l) => t.comment(l));
  const streamed: string[] = [];
  const vm = await Vm.start({ image, name: 'runner', env: { GREETING: "it's me" } });
  t.teardown(() => vm.stop());
  t.comment(`boot ${vm.bootMs} ms (guest uptime ${vm.guestBootSec} s, ${vm.accel})`);

  const res = await vm.exec('echo "$GREETING"; echo err >&2; printf partial; exit 7', {
    onOutput: (s) => streamed.push(s),
  });
  t.equal(res.exitCode, 7, 'exit status transported');
  t.equal(res.output, "it's me\nerr\npartial", 'stdout and stderr, partial last line kept');
  t.equal(streamed.join(''), res.output, 'output streamed as it came');

  // The project tree is shared at the same absolute path as on the host.
  const again = await vm.exec(
    `hostname; id -u; test -r '${projectRoot()}/package.json' && echo shared`,
    {
      env: { X: '1' },
    },
  );
  t.match(again.output, /^runner\n0\nshared/, 'host name, root and the shared tree');
  t.equal(again.exitCode, 0);

  // Background jobs a command leaves behind become orphans of the guest's init; their exits
  // land while the next command line is being read, and must never cost that command.
  let lost = 0;
  for (let i = 0; i < 40; i++) {
    await vm.exec(`(sleep 0.0${i % 10}; exit 3) </dev/null >/dev/null 2>&1 &`, {
      timeoutMs: 20_000,
    });
    const echo = await vm.exec(`echo ${i}`, { timeoutMs: 20_000 }).catch(() => undefined);
    if (echo?.output !== `${i}\n`) lost++;
    if (echo === undefined) break;
  }
  t.equal(lost, 0, 'no command lost to an orphan exiting while the line was read');

  await t.rejects(vm.exec('sleep 600', { timeoutMs: 3_000 }), /timed out/, 'timeout rejects');
  await vm.stop();
  t.notOk(vm.running, 'a timed-out command kills the VM');
  await t.rejects(vm.exec('true'), /not running/);

  const one = await runVm({ image, command: 'exit 0' });
  t.equal(one.exitCode, 0, 'runVm runs one command');
  t.same(leftoverVmPids(), [], 'no QEMU process left behind');
});
