#!/usr/bin/env node
// npm's install script: `node-gyp rebuild` of the rds_nvme addon, against headers of the
// Node that runs it. Candidates: a nodedir from npm's config (npm exports it as
// npm_config_nodedir, and node-gyp lets that environment override its command line), then
// the prefix the running Node sits in (<prefix>/bin/node, <prefix>/include/node: Node's
// release tarballs and the node images). The first whose node_version.h matches the running
// version is given to node-gyp, so nothing is downloaded and no nodedir needs to be set in
// npm's config (npm warns about it as an unknown setting). If none matches, node-gyp finds
// or downloads the headers as usual.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** Whether `prefix` holds the headers of exactly the running Node. */
function headersMatch(prefix) {
  let header;
  try {
    header = fs.readFileSync(path.join(prefix, 'include/node/node_version.h'), 'utf8');
  } catch {
    return false;
  }
  const part = (name) => new RegExp(`#define NODE_${name}_VERSION (\\d+)`).exec(header)?.[1];
  return ['MAJOR', 'MINOR', 'PATCH'].map(part).join('.') === process.versions.node;
}

function matchingHeaders(env = process.env, execPath = process.execPath) {
  const candidates = [env['npm_config_nodedir'], path.resolve(path.dirname(execPath), '..')];
  return candidates.find((dir) => dir && headersMatch(dir));
}

// The project's own node-gyp (a devDependency) when installed, else the one npm bundles.
function nodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return process.env['npm_config_node_gyp'];
  }
}

function main() {
  const gyp = nodeGyp();
  if (!gyp) {
    console.error('build-addon: node-gyp not found (neither a dependency nor npm_config_node_gyp)');
    process.exit(1);
  }
  const nodedir = matchingHeaders();
  const args = [gyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const env = nodedir ? { ...process.env, npm_config_nodedir: nodedir } : process.env;
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}

if (require.main === module) main();
module.exports = { matchingHeaders };
