import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths';

// The install script is plain CommonJS run by npm; its header lookup is exported for this.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { matchingHeaders } = require(join(packageRoot(), 'scripts/build-addon.js')) as {
  matchingHeaders(env: Record<string, string | undefined>, execPath: string): string | undefined;
};

/** A Node install prefix whose headers claim `version`. */
function prefix(root: string, name: string, version: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'include/node'), { recursive: true });
  mkdirSync(join(dir, 'bin'), { recursive: true });
  const [major, minor, patch] = version.split('.');
  writeFileSync(
    join(dir, 'include/node/node_version.h'),
    `#define NODE_MAJOR_VERSION ${major}\n#define NODE_MINOR_VERSION ${minor}\n#define NODE_PATCH_VERSION ${patch}\n`,
  );
  return dir;
}

t.test('the addon is built against headers of exactly the running Node', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'build-addon-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const running = process.versions.node;
  const own = prefix(root, 'own', running);
  const other = prefix(root, 'other', '20.0.0');
  const same = prefix(root, 'same', running);
  const exec = join(own, 'bin/node');

  t.equal(matchingHeaders({}, exec), own, "the running Node's own prefix");
  t.equal(
    matchingHeaders({ npm_config_nodedir: other }, exec),
    own,
    "npm's nodedir for another Node version is passed over (node-gyp would let it win)",
  );
  t.equal(matchingHeaders({ npm_config_nodedir: same }, exec), same, "npm's matching nodedir");
  t.equal(
    matchingHeaders({ npm_config_nodedir: other }, join(root, 'none/bin/node')),
    undefined,
    'no match: node-gyp finds or downloads the headers itself',
  );
});
