// Installs the npm package the way a user would: `npm pack` the built package folder
// (wasm/pkg, from `make wasm`), then `npm install` the tarball into a fresh project.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { root } from '../../scripts/testdata.mjs';

export { root, testdata } from '../../scripts/testdata.mjs';

/** Names the project `install()` made, for the test scripts a test runs in a child process. */
export const PROJECT_ENV = 'QUIVER_TEST_PROJECT';

/** `npm pack` the package and `npm install` the tarball into a fresh project. */
function packAndInstall() {
  const pkg = join(root, 'wasm/pkg');
  if (!existsSync(join(pkg, 'quiver_wasm_bg.wasm'))) {
    throw new Error('wasm/pkg is not built: run `make wasm` (scripts/build-wasm.sh)');
  }
  const project = mkdtempSync(join(tmpdir(), 'quiver-user-'));
  execFileSync('npm', ['pack', pkg, '--pack-destination', project, '--silent'], { stdio: 'pipe' });
  const tarball = readdirSync(project).find((f) => f.endsWith('.tgz'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'a-quiver-user', private: true, type: 'module' }),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', `./${tarball}`], {
    cwd: project,
    stdio: 'pipe',
  });
  return project;
}

let installed;
/** The temp project with the package installed: { project, quiver, arrow }. A child process
 * started with PROJECT_ENV set uses that project rather than installing again. */
export async function install() {
  if (installed) return installed;
  const project = process.env[PROJECT_ENV] || packAndInstall();
  const modules = join(project, 'node_modules');
  const quiver = await import(pathToFileURL(join(modules, 'quiver-wasm/index.js')));
  const arrowPkg = JSON.parse(readFileSync(join(modules, 'apache-arrow/package.json'), 'utf8'));
  const arrowEntry = arrowPkg.exports?.['.']?.node?.import ?? arrowPkg.module ?? arrowPkg.main;
  const arrowPath = join(modules, 'apache-arrow', typeof arrowEntry === 'string' ? arrowEntry : 'Arrow.node.mjs');
  const arrow = await import(pathToFileURL(arrowPath));
  installed = { project, modules, quiver, arrow };
  return installed;
}

export { walk } from '../../scripts/serve.mjs';
