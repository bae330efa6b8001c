// The package in Node 20, installed from its packed tarball into a fresh project, running
// the shared test functions (cases.js) and the bad-input suite.

import { before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cases } from './cases.js';
import { install, testdata, walk } from './setup.mjs';

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

test('bad files give errors and the instance keeps working', { skip: !data && 'no testdata' }, () => {
  const out = execFileSync(process.execPath, [join(here, 'bad_files_node.mjs')], { encoding: 'utf8' });
  const report = JSON.parse(out.trim().split('\n').pop());
  console.log(`bad files: ${JSON.stringify(report)}`);
  if (report.errors === 0 || report.files < 50) throw new Error(`report ${out}`);
});

test("a crashed instance's memory is given back", { skip: !data && 'no testdata' }, () => {
  const out = execFileSync(process.execPath, ['--expose-gc', join(here, 'crash_memory_node.mjs')], {
    encoding: 'utf8',
  });
  console.log(`crash memory: ${out.trim().split('\n').pop()}`);
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
