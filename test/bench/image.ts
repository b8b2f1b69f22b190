/**
 * The container image built by scripts/image.sh: its size unpacked and as `podman save`
 * output through gzip (what a registry push and a node's pull roughly move), its layer
 * count, and its digest, so a size change can be traced to a build.
 */
import { spawn } from 'node:child_process';
import { createGzip } from 'node:zlib';
import { IMAGE, imageSkipReason, inspectImage } from '../image/podman';
import type { BenchRow } from './types';

const MB = 1_000_000;

/** Bytes of `podman save IMAGE | gzip -6`. */
function gzippedSize(): Promise<number> {
  return new Promise((resolve, reject) => {
    const save = spawn('podman', ['save', '--format', 'docker-archive', IMAGE], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    save.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let bytes = 0;
    const gzip = createGzip({ level: 6 });
    gzip.on('data', (chunk: Buffer) => (bytes += chunk.length));
    gzip.on('end', () => resolve(bytes));
    gzip.on('error', reject);
    save.on('error', reject);
    save.on('close', (status) => {
      if (status !== 0) reject(new Error(`podman save exited ${status}: ${stderr.trim()}`));
    });
    save.stdout.pipe(gzip);
  });
}

export async function run(): Promise<BenchRow[]> {
  const skip = imageSkipReason();
  if (skip) return [{ name: 'image', value: NaN, unit: '', note: `skipped: ${skip}` }];
  const id = await inspectImage('{{.Id}}');
  const digest = await inspectImage('{{.Digest}}');
  const size = Number(await inspectImage('{{.Size}}'));
  const layers = (await inspectImage('{{len .RootFS.Layers}}')).trim();
  const revision = await inspectImage('{{index .Labels "org.opencontainers.image.revision"}}');
  const gz = await gzippedSize();
  return [
    { name: 'image size', value: size / MB, unit: 'MB', note: `${IMAGE} ${digest}` },
    { name: 'image gzip', value: gz / MB, unit: 'MB', note: `podman save | gzip -6` },
    {
      name: 'image layers',
      value: Number(layers),
      unit: '',
      note: `id ${id.slice(0, 12)}, commit ${revision.slice(0, 12)}`,
    },
  ];
}
