// The install line README.md gives, run word for word in a fresh project, as a new user
// would. npm links a plain local folder instead of copying it, and a linked package cannot
// find its own dependency (apache-arrow) from the user's project: this test holds the README
// to a line that works.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { root } from './setup.mjs';

/** Where the README's line says the Quiver checkout is. */
const PLACEHOLDER = '/path/to/quiver';

/** The README's install line: the `npm install` command of the npm package's section. */
function readmeInstallLine() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const lines = readme.split('\n').filter((l) => l.startsWith('npm install') && l.includes('wasm/pkg'));
  assert.equal(lines.length, 1, `one install line in README.md, found ${JSON.stringify(lines)}`);
  return lines[0];
}

test("the README's install line gives a project that imports and runs quiver-wasm", () => {
  if (!existsSync(join(root, 'wasm/pkg/quiver_wasm_bg.wasm'))) {
    throw new Error('wasm/pkg is not built: run `make wasm` (scripts/build-wasm.sh)');
  }
  const line = readmeInstallLine();
  assert.ok(line.includes(PLACEHOLDER), `the line names the checkout as ${PLACEHOLDER}: ${line}`);
  const project = mkdtempSync(join(tmpdir(), 'quiver-readme-'));
  execFileSync('npm', ['init', '-y'], { cwd: project, stdio: 'pipe' });
  // Through a shell, as a user pastes it; only the checkout's place is filled in.
  execSync(line.replaceAll(PLACEHOLDER, root), { cwd: project, stdio: 'pipe' });
  assert.equal(lstatSync(join(project, 'node_modules/quiver-wasm')).isSymbolicLink(), false, 'a copy, not a link');

  writeFileSync(
    join(project, 'check.mjs'),
    `import { Quiver } from 'quiver-wasm';
const quiver = await Quiver.create();
const rows = await quiver.queryRows('SELECT CAST(count(*) AS INT) AS n FROM (VALUES (1), (2), (3)) t(x)');
console.log(JSON.stringify(rows));
`,
  );
  const out = execFileSync(process.execPath, ['check.mjs'], { cwd: project, encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out.trim()), [{ n: 3 }]);
});
