/**
 * What the built image contains: the CLI and its build identity, the addon under the
 * image's own Node, every program the node plugin runs, and the users the chart expects.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { NODE_TOOLS } from '../../src/doctor/node-checks';
import { FILESYSTEMS } from '../../src/mount/filesystems';
import { imageSkipReason, inspectImage, runImage } from './podman';

const root = join(__dirname, '..', '..', '..');
const skip = imageSkipReason();
if (skip) {
  t.comment(`image tests skipped: ${skip}`);
  t.pass('skipped', { skip });
} else {
  // Each case starts containers; generous for a loaded 2-core machine.
  t.setTimeout(600_000);
  t.test('rds-csi --help exits 0 and lists the commands and serve flags', async (t) => {
    const r = await runImage([], ['--help']);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, /rds-csi serve \[flags\]/);
    t.match(r.stdout, /--endpoint/);
  });

  t.test('rds-csi version reports package.json version and the commit baked in', async (t) => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const revision = await inspectImage('{{index .Labels "org.opencontainers.image.revision"}}');
    t.match(revision, /^[0-9a-f]{40}$/, 'the image is labelled with a full commit id');
    const r = await runImage([], ['version']);
    t.equal(r.status, 0, r.stderr);
    t.equal(r.stdout.trim(), `rds-csi ${pkg.version} (commit ${revision})`);
  });

  t.test("the addon loads under the image's Node", async (t) => {
    const script = [
      "const n = require('/opt/rds-csi/dist/src/nvme/native.js');",
      'const a = n.loadNvmeAddon();',
      'console.log(JSON.stringify({ node: process.versions.node, abi: a.abiVersion,',
      '  env: process.env.NODE_VERSION, arch: process.arch }));',
    ].join('\n');
    const r = await runImage(['--entrypoint', 'node'], ['-e', script]);
    t.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { node: string; abi: number; env: string };
    t.equal(out.node, out.env, 'the node binary is the one the base image declares');
    t.match(out.node, /^2[46]\./, 'a supported LTS line');
    t.ok(out.abi > 0, 'the addon reports its ABI version');
  });

  t.test('every program the node plugin runs is in the image, with its libraries', async (t) => {
    // The programs the node plugin runs are the argv[0]s of its per-filesystem strategies
    // (everything else it does in-process through the addon); the doctor checks the same list.
    const tools = [
      ...new Set(
        Object.values(FILESYSTEMS).flatMap((fs) => [
          fs.mkfs('/dev/x')[0]!,
          ...(fs.fsck ? [fs.fsck('/dev/x')[0]!] : []),
          fs.grow('/dev/x', '/mnt')[0]!,
        ]),
      ),
    ].sort();
    t.same(
      Object.keys(NODE_TOOLS).sort(),
      tools,
      'the doctor checks every program the plugin runs',
    );
    // A dynamic executable whose libraries are missing prints "not found" under ldd;
    // shell scripts (fsck.xfs) are not dynamic executables and only need to exist.
    const script = [
      'for tool in "$@"; do',
      '  p=$(command -v "$tool") || { echo "missing $tool"; continue; }',
      '  if ldd "$p" 2>/dev/null | grep -q "not found"; then echo "broken $tool"; else echo "ok $tool"; fi',
      'done',
    ].join('\n');
    const r = await runImage(['--entrypoint', '/bin/sh'], ['-c', script, 'sh', ...tools]);
    t.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.same(
      lines,
      tools.map((tool) => `ok ${tool}`),
    );
  });

  t.test('the image runs as the non-root user the chart gives the controller', async (t) => {
    interface SecurityContext {
      runAsUser?: number;
      runAsGroup?: number;
      privileged?: boolean;
    }
    interface Workload {
      kind?: string;
      spec?: {
        template?: {
          spec?: {
            securityContext?: SecurityContext;
            containers?: { name: string; securityContext?: SecurityContext }[];
          };
        };
      };
    }
    const manifests = parseAllDocuments(
      readFileSync(join(root, 'deploy/manifests/rds-csi.yaml'), 'utf8'),
    ).map((d) => d.toJS() as Workload | null);
    const pod = (kind: string) => manifests.find((m) => m?.kind === kind)?.spec?.template?.spec;
    const controller = pod('Deployment');
    const node = pod('DaemonSet');
    const uid = Number(controller?.securityContext?.runAsUser);
    const gid = Number(controller?.securityContext?.runAsGroup);
    t.ok(uid > 0, 'the chart runs the controller as a non-root uid');
    t.equal(await inspectImage('{{.Config.User}}'), `${uid}:${gid}`, 'the image default user');
    const r = await runImage(['--entrypoint', 'id'], ['-u']);
    t.equal(r.stdout.trim(), String(uid), 'the process runs as that uid');
    const plugin = node?.containers?.find((c) => c.name === 'rds-csi');
    t.equal(plugin?.securityContext?.runAsUser, 0, 'the node plugin is set to root by the chart');
    t.equal(plugin?.securityContext?.privileged, true);
  });
}
