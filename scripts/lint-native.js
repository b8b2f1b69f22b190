#!/usr/bin/env node
// Lints the C++ addon: clang-format (style from .clang-format) must report no changes.
// The compiler's -Wall -Wextra warnings are checked by the build itself.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'native');
const files = fs
  .readdirSync(dir)
  .filter((f) => /\.(cc|h)$/.test(f))
  .map((f) => path.join(dir, f));

const probe = spawnSync('clang-format', ['--version'], { encoding: 'utf8' });
if (probe.error) {
  console.error(
    'lint-native: clang-format is not installed (Debian: apt-get install clang-format)',
  );
  process.exit(1);
}
try {
  execFileSync('clang-format', ['--dry-run', '-Werror', ...files], { stdio: 'inherit' });
} catch {
  console.error('lint-native: run `clang-format -i native/*.cc native/*.h` to fix the style');
  process.exit(1);
}
console.log(`lint-native: ${files.length} files clean`);
