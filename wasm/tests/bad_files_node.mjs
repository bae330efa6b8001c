// Runs the bad-input suite in a plain Node process, as a user's program would run (node:test
// fails any test during which an exception goes uncaught, and a panic's trap inside an async
// query surfaces as one, which the package then absorbs). Prints the report as JSON.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { badFiles } from './bad_files.js';
import { install, testdata, walk } from './setup.mjs';

const data = testdata();
const { quiver } = await install();
const report = await badFiles({
  Quiver: quiver.Quiver,
  load: async (path) => new Uint8Array(readFileSync(join(data, path))),
  list: async (folder) => walk(join(data, folder)).map((name) => `${folder}/${name}`),
});
console.log(JSON.stringify(report));
