// The bed's shell scripts for the VMs and the parsers of their output (pure). Every script is
// run by bed.ts through Vm.exec in VM a or b; paths are the bed's conventions below.
import { FILESYSTEMS } from '../../src/mount/filesystems';
import { shellQuote } from '../vm/protocol';
import type { NvmeControllerView } from './bed-types';

export const NODE_LOG = '/tmp/node.log';
export const NODE_PID = '/tmp/node.pid';
export const SIM_LOG = '/tmp/rds-sim.log';
export const SIM_STATE = '/tmp/rds-sim';
const NVMET = '/sys/kernel/config/nvmet';
/** What identifies a node plugin's command line (its argv joined by spaces). */
const NODE_PLUGIN_MARK = 'dist/src/main.js serve --mode=node';

/** `alive PID`: the process exists, is not a zombie and is a node plugin. */
const ALIVE_FN = `alive() {
  [ -r /proc/$1/stat ] || return 1
  [ "$(sed 's/.*) //' /proc/$1/stat | cut -c1)" != Z ] || return 1
  tr '\\0' ' ' </proc/$1/cmdline | grep -qF ${shellQuote(NODE_PLUGIN_MARK)}
}`;

/**
 * Starts the node plugin in the background unless the one in the pid file still runs. Its
 * output is appended to NODE_LOG (a restart keeps the history, separated by a marker line).
 */
export function startNodePluginScript(argv: string[], kubeletDir: string, kubeconfig: string) {
  return `${ALIVE_FN}
modprobe -a nvme-fabrics nvme-tcp
mkdir -p ${shellQuote(kubeletDir)}
printf '%s' ${shellQuote(kubeconfig)} > /tmp/kubeconfig
if [ -f ${NODE_PID} ] && alive "$(cat ${NODE_PID})"; then echo "running $(cat ${NODE_PID})"; exit 0; fi
echo "---- bed: node plugin starting at $(date)" >> ${NODE_LOG}
${argv.map(shellQuote).join(' ')} </dev/null >>${NODE_LOG} 2>&1 &
echo $! > ${NODE_PID}
echo "started $!"`;
}

/**
 * SIGKILLs the node plugin of the pid file and waits until it is reaped. Waiting for the reap,
 * not just the zombie, matters: the VM's init reaps orphans while it waits for a command, and
 * an orphan that dies while init reads the serial line between commands can cost the next
 * command (it never runs and the exec times out).
 */
export const KILL_NODE_PLUGIN_SCRIPT = `${ALIVE_FN}
[ -f ${NODE_PID} ] || exit 0
pid=$(cat ${NODE_PID})
alive "$pid" || exit 0
kill -9 "$pid"
for i in $(seq 1 300); do [ -e "/proc/$pid" ] || exit 0; sleep 0.1; done
echo "node plugin $pid not gone 30 s after SIGKILL"; exit 1`;

export const CONTROLLERS_SCRIPT = `for d in /sys/class/nvme/nvme[0-9]*; do
  [ -e "$d" ] || continue
  printf '%s\\t%s\\t%s\\n' "\${d##*/}" "$(cat "$d/subsysnqn" 2>/dev/null)" "$(cat "$d/state" 2>/dev/null)"
done`;

export function parseControllers(output: string): NvmeControllerView[] {
  const out: NvmeControllerView[] = [];
  for (const line of output.split('\n')) {
    const [name, subsysnqn, state] = line.split('\t');
    if (name === undefined || !/^nvme\d+$/.test(name)) continue;
    // A controller deleted between the glob and the reads has no attributes left: gone.
    if ((subsysnqn ?? '') === '' && (state ?? '') === '') continue;
    out.push({ name, subsysnqn: subsysnqn ?? '', state: state ?? '' });
  }
  return out;
}

/** Mount points of /proc/mounts at or under `dir` (octal escapes such as \040 decoded). */
export function parseMounts(procMounts: string, dir: string): string[] {
  const base = dir.replace(/\/+$/, '');
  return procMounts
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === base || p.startsWith(`${base}/`));
}

export function allowListScript(nqn: string): string {
  const dir = `${NVMET}/subsystems/${shellQuote(nqn)}`;
  return `[ -d ${dir} ] || { echo none; exit 0; }
cat ${dir}/attr_allow_any_host; ls ${dir}/allowed_hosts/`;
}

export function parseAllowList(output: string): string[] | 'any' | undefined {
  const [any, ...hosts] = output.split(/\s+/).filter((s) => s !== '');
  if (any === 'none') return undefined;
  return any === '1' ? 'any' : hosts.sort();
}

export const SUBSYSTEMS_SCRIPT = `ls ${NVMET}/subsystems/`;

export function words(output: string): string[] {
  return output.split(/\s+/).filter((s) => s !== '');
}

/** A port of the kernel target as targetDown found it, and the subsystems it unlinked. */
export interface DownPort {
  trtype: string;
  adrfam: string;
  traddr: string;
  trsvcid: string;
  nqns: string[];
}

/**
 * Unlinks every subsystem from every nvmet port, printing `P <port> <trtype> <adrfam> <traddr>
 * <trsvcid>` per port and `S <port> <nqn>` per link removed. The kernel drops the hosts'
 * controllers of an unlinked subsystem; they keep reconnecting until it is linked again.
 */
export const TARGET_DOWN_SCRIPT = `cd ${NVMET}/ports || exit 0
for p in *; do
  [ -d "$p" ] || continue
  echo "P $p $(cat $p/addr_trtype) $(cat $p/addr_adrfam) $(cat $p/addr_traddr) $(cat $p/addr_trsvcid)"
  for l in "$p"/subsystems/*; do
    [ -L "$l" ] || continue
    rm "$l" || exit 1
    echo "S $p \${l##*/}"
  done
done`;

/** Adds what one targetDown run printed to `down` (a port seen twice keeps every NQN). */
export function parseTargetDown(output: string, down: Map<string, DownPort>): void {
  for (const line of output.split('\n')) {
    const f = line.trim().split(' ');
    const port = f[1];
    if (port === undefined) continue;
    if (f[0] === 'P' && f.length === 6 && !down.has(port)) {
      down.set(port, { trtype: f[2]!, adrfam: f[3]!, traddr: f[4]!, trsvcid: f[5]!, nqns: [] });
    } else if (f[0] === 'S' && f[2] !== undefined) {
      const p = down.get(port);
      if (p !== undefined && !p.nqns.includes(f[2])) p.nqns.push(f[2]);
    }
  }
}

/**
 * Re-creates a port rds-sim removed meanwhile (it removes a port left without subsystems),
 * then links back each subsystem that still exists. rds-sim links the subsystems it creates
 * or re-exports on its own (also during the outage), so an existing link is success, and a
 * port or link made by rds-sim between the test and the mkdir/ln is too.
 */
export function targetUpScript(down: Map<string, DownPort>): string {
  const lines = [`cd ${NVMET}/ports || exit 1`, 'relinked=0; gone=0'];
  for (const [port, p] of down) {
    const q = shellQuote(port);
    lines.push(
      `if [ ! -d ${q} ]; then
  mkdir ${q} 2>/dev/null || [ -d ${q} ] || exit 1
  echo ${shellQuote(p.trtype)} > ${q}/addr_trtype; echo ${shellQuote(p.adrfam)} > ${q}/addr_adrfam
  echo ${shellQuote(p.traddr)} > ${q}/addr_traddr; echo ${shellQuote(p.trsvcid)} > ${q}/addr_trsvcid
fi`,
    );
    for (const nqn of p.nqns) {
      const sub = `${NVMET}/subsystems/${shellQuote(nqn)}`;
      const link = `${q}/subsystems/${shellQuote(nqn)}`;
      lines.push(
        `if [ ! -d ${sub} ]; then gone=$((gone+1))
elif [ ! -L ${link} ]; then ln -s ${sub} ${link} 2>/dev/null || [ -L ${link} ] || exit 1; relinked=$((relinked+1)); fi`,
      );
    }
  }
  lines.push('echo "relinked $relinked gone $gone"');
  return lines.join('\n');
}

/** Every subsystem linked to some nvmet port. */
export const LINKED_SCRIPT = `ls ${NVMET}/ports/*/subsystems/ 2>/dev/null | grep -v -e '^$' -e ':$' || true`;

/** Writes rds-sim's control file atomically (it re-reads it before every command and login). */
export function simFaultsScript(json: string): string {
  return `printf '%s\\n' ${shellQuote(json)} > ${SIM_STATE}/faults.json.tmp
mv ${SIM_STATE}/faults.json.tmp ${SIM_STATE}/faults.json`;
}

/** rds-sim's disk table (its state file, written by rename after every change) and pool files. */
export const INVENTORY_SCRIPT = `cat ${SIM_STATE}/disks.json 2>/dev/null || echo '{"disks":[]}'
echo '@@FILES'
cd ${SIM_STATE}/pool && find . -type f`;

export function parseInventory(
  output: string,
  poolMountPoint = 'storage-pool',
): { disks: string[]; files: string[] } {
  const [state = '', files = ''] = output.split('@@FILES\n');
  const parsed = JSON.parse(state) as { disks: Array<{ slot: string }> };
  return {
    disks: parsed.disks.map((d) => d.slot).sort(),
    files: words(files)
      .map((f) => `${poolMountPoint}/${f.replace(/^\.\//, '')}`)
      .sort(),
  };
}

/** `<pid> <argv joined by spaces>` of every process with a command line. */
export const PROCESSES_SCRIPT = `for d in /proc/[0-9]*; do
  c=$(tr '\\0' ' ' < "$d/cmdline" 2>/dev/null) || continue
  [ -n "$c" ] && echo "\${d##*/} $c"
done
echo "@@PLUGIN $(cat ${NODE_PID} 2>/dev/null)"`;

/**
 * Programs the node plugin runs (the argv[0]s of its filesystem strategies, and the names
 * mkfs/fsck links resolve to), plus tools a driver could leave behind on a node.
 */
export const DRIVER_PROGRAMS: ReadonlySet<string> = new Set([
  ...Object.values(FILESYSTEMS).flatMap((fs) => [
    fs.mkfs('/dev/x')[0] ?? '',
    ...(fs.fsck ? [fs.fsck('/dev/x')[0] ?? ''] : []),
    fs.grow('/dev/x', '/mnt')[0] ?? '',
  ]),
  'mke2fs',
  'e2fsck',
  'nvme',
  'blkid',
  'mount',
  'umount',
  'wipefs',
]);

/** Processes of the driver's programs, and node plugins other than the one in the pid file. */
export function parseStray(output: string): string[] {
  const plugin = /^@@PLUGIN (\d*)$/m.exec(output)?.[1] ?? '';
  const stray: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^(\d+) (.*)$/.exec(line.trim());
    if (m === null) continue;
    const [, pid = '', cmd = ''] = m;
    const argv0 = (cmd.split(' ')[0] ?? '').split('/').pop() ?? '';
    const secondPlugin = cmd.includes(NODE_PLUGIN_MARK) && pid !== plugin;
    if (DRIVER_PROGRAMS.has(argv0) || secondPlugin) stray.push(`${pid} ${cmd.trim()}`);
  }
  return stray;
}
