// The package in Node 20, installed from its packed tarball into a fresh project, running
// the shared test functions (cases.js) and the bad-input suite.

import { before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cases } from './cases.js';
import { PROJECT_ENV, install, testdata, walk } from './setup.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const data = testdata();
let env;

before(async () => {
  const { quiver, arrow } = await install();
  const load = async (path) => new Uint8Array(readFileSync(join(data, path)));
  env = {
    Quiver: quiver.Quiver,
    arrow,
    load,
    blob: async (path) => new Blob([await load(path)]),
    deltaFiles: async (folder) => {
      const files = new Map();
      for (const name of walk(join(data, folder))) files.set(name, await load(`${folder}/${name}`));
      return files;
    },
    list: async (folder) => walk(join(data, folder)).map((name) => `${folder}/${name}`),
  };
});

for (const [name, run] of Object.entries(cases)) {
  test(name, { skip: !data && 'no testdata' }, () => run(env));
}

/** Runs a test script in a plain Node process, as a user's program runs, in the project
 * `install()` made; returns the JSON report it prints last. */
async function runScript(script, nodeFlags = []) {
  const { project } = await install();
  const out = execFileSync(process.execPath, [...nodeFlags, join(here, script)], {
    encoding: 'utf8',
    env: { ...process.env, [PROJECT_ENV]: project },
  });
  return JSON.parse(out.trim().split('\n').pop());
}

test('bad files give errors and the instance keeps working', { skip: !data && 'no testdata' }, async () => {
  const report = await runScript('bad_files_node.mjs');
  console.log(`bad files: ${JSON.stringify(report)}`);
  if (report.errors === 0 || report.files < 50) throw new Error(`report ${JSON.stringify(report)}`);
});

test("a crashed instance's memory is given back", { skip: !data && 'no testdata' }, async () => {
  const report = await runScript('crash_memory_node.mjs', ['--expose-gc']);
  console.log(`crash memory: ${JSON.stringify(report)}`);
});

test('AsyncQuiver explains that Node has no Web Workers', async () => {
  const { quiver } = await install();
  await env; // installed
  try {
    await quiver.AsyncQuiver.create();
    throw new Error('did not fail');
  } catch (e) {
    if (!/Web Workers/.test(e.message)) throw e;
  }
});
