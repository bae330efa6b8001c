// quiver-wasm against @duckdb/duckdb-wasm 1.32.0 in the same headless Chromium:
//   - the gzip size of each engine's .wasm;
//   - time from create() to the first result;
//   - TPC-H SF 0.1 (the 22 queries benches/compare.py runs natively), with both engines
//     loading the same Arrow IPC bytes; Quiver's own times over the Parquet files beside.
// Both engines run in a Web Worker (AsyncQuiver, AsyncDuckDB). Each query: one warm-up, then
// --runs timed runs; the median is reported and the ratio quiver/duckdb (below 1 means
// Quiver is faster), with the geometric mean over the queries both answer.
//
//   make wasm && cd benches/wasm && npm install && node compare.mjs [--scale 0.1] [--runs 3] [--queries 1,6]
//   [--pkg DIR]   another build of the package folder (default wasm/pkg), e.g. to compare
//                 build settings side by side in one session

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { launchOptions } from '../../scripts/chromium.mjs';
import { serve } from '../../scripts/serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const scale = args.scale ?? '0.1';
const runs = Number(args.runs ?? 3);
const only = args.queries ? new Set(args.queries.split(',').map(Number)) : null;
const TABLES = ['region', 'nation', 'supplier', 'customer', 'part', 'partsupp', 'orders', 'lineitem'];

function queryDir() {
  for (const dir of [
    resolve(repo, '../shared/testdata/tpch/datafusion/benchmarks/queries'),
    '/work/shared/testdata/tpch/datafusion/benchmarks/queries',
  ]) {
    if (existsSync(dir)) return dir;
  }
  throw new Error('the TPC-H query texts (../shared/testdata/tpch) are missing');
}

/** TPC-H at `scale` as Parquet (tpchgen-cli) and as Arrow IPC streams (pyarrow). */
function ensureData() {
  const dir = join(repo, 'benches/data', `tpch-sf${scale}`);
  const ipc = join(dir, 'ipc');
  if (!existsSync(join(ipc, 'lineitem.arrows'))) {
    mkdirSync(ipc, { recursive: true });
    execFileSync('python3', ['-m', 'pip', 'install', '--quiet', 'tpchgen-cli==4.0.0', 'pyarrow'], { stdio: 'inherit' });
    execFileSync('tpchgen-cli', ['parquet', '-s', scale, '--output-dir', join(dir, 'parquet'), '--overwrite'], { stdio: 'inherit' });
    execFileSync('python3', ['-c', `
import pyarrow.parquet as pq, pyarrow as pa, pathlib, sys
src = pathlib.Path(sys.argv[1]); out = pathlib.Path(sys.argv[2])
for f in src.glob('*.parquet'):
    t = pq.read_table(f)
    with pa.OSFile(str(out / (f.stem + '.arrows')), 'wb') as sink:
        with pa.ipc.new_stream(sink, t.schema) as w:
            w.write_table(t)
`, join(dir, 'parquet'), ipc], { stdio: 'inherit' });
  }
  return dir;
}


/** Bare specifier -> URL for every package in `dir` (served at `base`), by its browser ESM entry. */
function packageEntries(dir, base) {
  const out = {};
  const names = readdirSync(dir).flatMap((n) =>
    n.startsWith('@') ? readdirSync(join(dir, n)).map((m) => `${n}/${m}`) : [n],
  );
  for (const name of names) {
    const file = join(dir, name, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    let entry = name === 'apache-arrow' ? 'Arrow.dom.mjs' : pkg.module ?? pkg.exports?.['.']?.import ?? pkg.main;
    if (entry && typeof entry === 'object') entry = entry.default;
    if (typeof entry === 'string') out[name] = `${base}/${name}/${entry.replace(/^\.\//, '')}`;
  }
  return out;
}

function importMap(modules) {
  const duck = join(modules, '@duckdb/duckdb-wasm/node_modules');
  return {
    imports: {
      ...packageEntries(modules, '/modules'),
      'quiver-wasm': '/pkg/index.js',
      '@duckdb/duckdb-wasm': '/modules/@duckdb/duckdb-wasm/dist/duckdb-browser.mjs',
    },
    // DuckDB-wasm brings its own apache-arrow (17).
    scopes: { '/modules/@duckdb/': packageEntries(duck, '/modules/@duckdb/duckdb-wasm/node_modules') },
  };
}

const PAGE = (map) => `<!doctype html><meta charset="utf-8"><title>quiver-wasm vs duckdb-wasm</title>
<script type="importmap">${JSON.stringify(map)}</script>
<script type="module">
import { AsyncQuiver } from 'quiver-wasm';
import * as duckdb from '@duckdb/duckdb-wasm';

const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function bytes(url) {
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

window.bench = {
  async startQuiver() {
    const t0 = now();
    const q = await AsyncQuiver.create();
    await q.query('SELECT 1');
    window.quiver = q;
    return now() - t0;
  },
  async startDuck() {
    const t0 = now();
    const worker = new Worker('/modules/@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js');
    const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
    await db.instantiate('/modules/@duckdb/duckdb-wasm/dist/duckdb-eh.wasm');
    const conn = await db.connect();
    await conn.query('SELECT 1');
    window.duck = conn;
    return now() - t0;
  },
  async load(tables, format) {
    const t0 = now();
    for (const t of tables) {
      const data = await bytes('/data/' + (format === 'ipc' ? 'ipc/' + t + '.arrows' : 'parquet/' + t + '.parquet'));
      if (format === 'ipc') {
        await window.quiver.registerFile(t + '.arrows', data);
        await window.duck.insertArrowFromIPCStream(data, { name: t });
      } else {
        await window.quiver.registerFile(t + '_pq.parquet', data);
      }
    }
    return now() - t0;
  },
  async time(engine, statements, runs) {
    const run = async () => {
      let rows = 0;
      for (const sql of statements) {
        if (engine === 'duckdb') rows = (await window.duck.query(sql)).numRows;
        else rows = (await window.quiver.queryTable(sql)).numRows;
      }
      return rows;
    };
    try {
      const rows = await run();
      const times = [];
      for (let i = 0; i < runs; i++) {
        const t0 = now();
        await run();
        times.push(now() - t0);
      }
      return { ms: median(times), rows };
    } catch (e) {
      return { error: String(e.message ?? e).slice(0, 200) };
    }
  },
};
window.ready = true;
</script>`;

function statements(text) {
  return text
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

async function main() {
  const pkg = resolve(args.pkg ?? join(repo, 'wasm/pkg'));
  if (!existsSync(join(pkg, 'quiver_wasm_bg.wasm'))) throw new Error('build the package first: make wasm');
  const data = ensureData();
  const modules = join(here, 'node_modules');
  const page = join(data, 'page');
  mkdirSync(page, { recursive: true });
  writeFileSync(join(page, 'index.html'), PAGE(importMap(modules)));
  const server = await serve({ pkg, modules, data, page });
  const { url } = server;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch(launchOptions());
  const tab = await browser.newPage();
  tab.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  tab.on('console', (m) => m.type() === 'error' && console.error(`page console: ${m.text()}`));
  tab.on('requestfailed', (r) => console.error(`request failed: ${r.url()}`));
  tab.on('response', (r) => r.status() >= 400 && console.error(`HTTP ${r.status()}: ${r.url()}`));
  await tab.goto(`${url}/page/index.html`);
  await tab.waitForFunction(() => window.ready === true);

  const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length / 1e6;
  const quiverGz = gz(join(pkg, 'quiver_wasm_bg.wasm'));
  const duckGz = gz(join(modules, '@duckdb/duckdb-wasm/dist/duckdb-eh.wasm'));
  console.log(`wasm gzip size: quiver ${quiverGz.toFixed(2)} MB, duckdb-eh ${duckGz.toFixed(2)} MB`);

  const startQuiver = await tab.evaluate(() => window.bench.startQuiver());
  const startDuck = await tab.evaluate(() => window.bench.startDuck());
  console.log(`create() to first result: quiver ${startQuiver.toFixed(0)} ms, duckdb ${startDuck.toFixed(0)} ms`);
  const loadIpc = await tab.evaluate((t) => window.bench.load(t, 'ipc'), TABLES);
  await tab.evaluate((t) => window.bench.load(t, 'parquet'), TABLES);
  console.log(`loading SF ${scale} from Arrow IPC into both: ${loadIpc.toFixed(0)} ms`);

  const dir = queryDir();
  const rows = [];
  for (let n = 1; n <= 22; n++) {
    if (only && !only.has(n)) continue;
    const text = readFileSync(join(dir, `q${n}.sql`), 'utf8');
    const ipcSql = statements(text);
    const pqSql = ipcSql.map((s) => TABLES.reduce((acc, t) => acc.replace(new RegExp(`\\b${t}\\b`, 'g'), `${t}_pq`), s));
    const quiver = await tab.evaluate(([s, r]) => window.bench.time('quiver', s, r), [ipcSql, runs]);
    const duck = await tab.evaluate(([s, r]) => window.bench.time('duckdb', s, r), [ipcSql, runs]);
    const parquet = await tab.evaluate(([s, r]) => window.bench.time('quiver', s, r), [pqSql, runs]);
    const ratio = quiver.ms && duck.ms ? quiver.ms / duck.ms : null;
    rows.push({ q: n, quiver, duck, parquet, ratio });
    const f = (x) => (x.error ? `error: ${x.error}` : `${x.ms.toFixed(1)} ms (${x.rows} rows)`);
    console.log(`q${n}: quiver ${f(quiver)} | duckdb ${f(duck)} | ratio ${ratio?.toFixed(2) ?? '-'} | quiver parquet ${f(parquet)}`);
  }
  const ratios = rows.map((r) => r.ratio).filter((r) => r);
  const geomean = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length);
  console.log(`geometric mean quiver/duckdb over ${ratios.length} queries: ${geomean.toFixed(2)}`);
  const out = join(repo, 'benches/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, `wasm-compare-sf${scale}.json`),
    JSON.stringify({ scale, runs, pkg, quiverGz, duckGz, startQuiver, startDuck, loadIpc, rows, geomean }, null, 2),
  );
  await browser.close();
  await server.close();
}

await main();
