#!/usr/bin/env node
// npm's install script: `node-gyp rebuild` of the rds_nvme addon. When the running Node's
// own headers sit next to it (the layout of Node's release tarballs and of the node images:
// <prefix>/bin/node and <prefix>/include/node) and match its version, node-gyp is pointed
// at them with --nodedir, so the build needs no header download and no npm_config_nodedir
// in the environment (which npm warns about as an unknown setting). Otherwise node-gyp
// finds or downloads the headers as usual.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function localHeaders() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  let header;
  try {
    header = fs.readFileSync(path.join(prefix, 'include/node/node_version.h'), 'utf8');
  } catch {
    return undefined;
  }
  const part = (name) => new RegExp(`#define NODE_${name}_VERSION (\\d+)`).exec(header)?.[1];
  const version = ['MAJOR', 'MINOR', 'PATCH'].map(part).join('.');
  return version === process.versions.node ? prefix : undefined;
}

// The project's own node-gyp (a devDependency) when installed, else the one npm bundles.
function nodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return process.env['npm_config_node_gyp'];
  }
}

const gyp = nodeGyp();
if (!gyp) {
  console.error('build-addon: node-gyp not found (neither a dependency nor npm_config_node_gyp)');
  process.exit(1);
}
const nodedir = localHeaders();
const args = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
