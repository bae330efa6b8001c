// The package in headless Chromium (Debian's, driven by playwright-core): the shared test
// functions, File/Blob input read by range, registerUrl with range requests against a
// loopback server, the Worker wrapper with cancel, and bad input.

import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cases } from './cases.js';
import { install, root, testdata } from './setup.mjs';
import { launchOptions } from '../../scripts/chromium.mjs';
import { serve } from '../../scripts/serve.mjs';

const data = testdata();
const ROWS = 1_000_000;
let server;
let browser;
let page;
let bigSize;

/** An import map for the installed package and what apache-arrow's ESM build imports. */
function importMap(modules) {
  const arrowPkg = JSON.parse(readFileSync(join(modules, 'apache-arrow/package.json'), 'utf8'));
  const imports = {
    'quiver-wasm': '/modules/quiver-wasm/index.js',
    // apache-arrow's browser build (its "module" entry is the Node one).
    'apache-arrow': '/modules/apache-arrow/Arrow.dom.mjs',
  };
  for (const dep of Object.keys(arrowPkg.dependencies ?? {})) {
    const pkg = JSON.parse(readFileSync(join(modules, dep, 'package.json'), 'utf8'));
    const entry = pkg.module ?? pkg.exports?.['.']?.import?.default ?? pkg.exports?.['.']?.import ?? pkg.main;
    if (typeof entry === 'string') imports[dep] = `/modules/${dep}/${entry.replace(/^\.\//, '')}`;
    imports[`${dep}/`] = `/modules/${dep}/`;
  }
  return { imports };
}

before(async () => {
  if (!data) return;
  const { modules } = await install();
  // A Parquet file of 1,000,000 rows in 10 row groups, so that a selective query needs a
  // small part of it.
  const gen = mkdtempSync(join(tmpdir(), 'quiver-gen-'));
  execFileSync('python3', [
    '-c',
    `import pyarrow as pa, pyarrow.parquet as pq
n = ${ROWS}
ids = pa.array(range(n), pa.int64())
t = pa.table({"id": ids, "value": pa.array([i * 0.5 for i in range(n)], pa.float64()),
              "label": pa.array([f"row {i}" for i in range(n)])})
pq.write_table(t, "${gen}/big.parquet", row_group_size=100_000, write_page_index=True)`,
  ]);
  bigSize = statSync(join(gen, 'big.parquet')).size;
  const tests = join(root, 'wasm/tests');
  writeFileSync(
    join(gen, 'page.html'),
    `<!doctype html><meta charset="utf-8"><title>quiver-wasm tests</title>
<script type="importmap">${JSON.stringify(importMap(modules))}</script>
<script type="module" src="/tests/page.js"></script>
<body>quiver-wasm tests</body>`,
  );
  server = await serve({ modules, testdata: data, tests, gen });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch(launchOptions());
  page = await browser.newPage();
  // A panic's trap ("unreachable") is expected in the bad-input test; the package restarts.
  page.on('pageerror', (e) => {
    if (e.message !== 'unreachable') console.error(`page error: ${e.message}`);
  });
  await page.goto(`${server.url}/gen/page.html`);
  await page.waitForFunction(() => window.harness !== undefined, null, { timeout: 120_000 });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const skip = !data && 'no testdata';

for (const name of Object.keys(cases)) {
  test(`browser: ${name}`, { skip }, async () => {
    await page.evaluate((n) => window.harness.run(n), name);
  });
}

test('browser: a File is read by range, not whole', { skip }, async () => {
  const got = await page.evaluate(() => window.harness.blobByRange('/gen/big.parquet'));
  const expectedSum = 0.5 * (100 * 500_000 + 4_950);
  if (got.count !== 100 || got.sum !== expectedSum) throw new Error(`answer ${JSON.stringify(got)}`);
  if (got.sliced > bigSize / 4) {
    throw new Error(`read ${got.sliced} of ${bigSize} bytes for a selective query`);
  }
  console.log(`File by range: ${got.sliced} of ${bigSize} bytes read`);
});

test('browser: registerUrl reads by range requests', { skip }, async () => {
  server.sent.clear();
  const got = await page.evaluate((url) => window.harness.byUrl(url), `${server.url}/gen/big.parquet`);
  const expectedSum = 0.5 * (100 * 500_000 + 4_950);
  if (got.count !== 100 || got.sum !== expectedSum) throw new Error(`answer ${JSON.stringify(got)}`);
  const fetched = server.sent.get('/gen/big.parquet') ?? 0;
  if (fetched === 0 || fetched > bigSize / 4) {
    throw new Error(`fetched ${fetched} of ${bigSize} bytes for a selective query`);
  }
  console.log(`registerUrl: ${fetched} of ${bigSize} bytes fetched`);
});

test('browser: AsyncQuiver answers in a worker, and cancel stops a long query', { skip }, async () => {
  const got = await page.evaluate(() => window.harness.worker());
  if (!got.cancelled) throw new Error(`the long query was not cancelled: ${JSON.stringify(got)}`);
  if (got.after !== 8) throw new Error(`after cancel the worker lost its table: ${JSON.stringify(got)}`);
  if (got.ticks < 3) throw new Error(`the page was not responsive during the query: ${got.ticks} ticks`);
  console.log(`worker: ${JSON.stringify(got)}`);
});

test('browser: bad files give errors and the instance keeps working', { skip }, async () => {
  const report = await page.evaluate(() => window.harness.badFiles());
  console.log(`browser bad files: ${JSON.stringify(report)}`);
});
