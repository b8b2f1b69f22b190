#!/usr/bin/env node
// Generates TypeScript types for the CSI proto into src/csi/gen (ignored by git), so
// handlers are type-checked against the wire contract. The loader options here must
// match src/csi/proto/load.ts.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'src/csi/gen');
const proto = path.join(root, 'src/csi/proto/csi.proto');
const bin = require.resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js');

// Skip when the generated tree is newer than the proto (keeps repeated builds fast).
const stamp = path.join(out, '.stamp');
if (fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= fs.statSync(proto).mtimeMs)
  process.exit(0);

fs.rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    bin,
    '--grpcLib=@grpc/grpc-js',
    `--outDir=${out}`,
    '--keepCase',
    '--longs=String',
    '--enums=String',
    '--defaults',
    '--oneofs',
    '--includeComments=false',
    proto,
  ],
  { stdio: 'inherit' },
);
fs.writeFileSync(stamp, '');
