// The explorer end to end: the page served from web-demo/ (with the npm package as npm
// installed it) in Debian's headless Chromium, driven through its data-testid controls.
// Answers come from independent readers: pyarrow and Python's csv module at test time, and
// the deltalake 1.6.6 oracle in ../shared/testdata. Each test saves a screenshot in
// web-demo/test-results/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { launchOptions } from '../../scripts/chromium.mjs';
import { serve } from '../../scripts/serve.mjs';
import { testdata } from '../../scripts/testdata.mjs';

const site = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shots = join(site, 'test-results');
const data = testdata();
const skip = !data && 'no testdata';

const PARQUET = 'parquet-testing/data/alltypes_plain.parquet';
const CSV = 'datafusion-slt/datafusion/core/tests/tpch-csv/nation.csv';
const SIMPLE = 'delta-rs/crates/test/tests/data/simple_table';
const COVID = 'delta-rs/crates/test/tests/data/COVID-19_NYT';
const BAD = 'parquet-testing/bad_data/PARQUET-1481.parquet';
// A Delta table whose newest commits live in a catalog: a feature Quiver refuses by name.
const CATALOG_OWNED = 'delta-golden/kernel/kernel-defaults/src/test/resources/catalog-owned-preview';

let server;
let browser;
let gen;
/** While set, the server keeps the wasm module back until this promise settles: the page
 * is then up with its engine still starting, for as long as a test needs. */
let wasmHeld = null;

/** Runs Python (pyarrow) and returns its JSON output. */
function python(code) {
  return JSON.parse(execFileSync('python3', ['-c', code], { maxBuffer: 1 << 26 }).toString());
}

/** The deltalake oracle's entry for a table. */
function oracle(table) {
  const entries = JSON.parse(readFileSync(join(data, 'oracles/delta-tables.deltalake-1.6.6.json'), 'utf8'));
  return entries.find((e) => e.table === table);
}

before(async () => {
  if (!data) return;
  mkdirSync(shots, { recursive: true });
  gen = mkdtempSync(join(tmpdir(), 'quiver-explorer-'));
  // A Parquet file cut short: its footer is gone.
  const whole = readFileSync(join(data, PARQUET));
  writeFileSync(join(gen, 'cut_short.parquet'), whole.subarray(0, Math.floor(whole.length / 2)));
  copyFileSync(join(data, BAD), join(gen, 'bad_type.parquet'));
  server = await serve({ '': site, data, gen }, 0, {
    hold: (path) => (path.endsWith('.wasm') ? wasmHeld : undefined),
  });
  browser = await chromium.launch(launchOptions());
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh page, loaded; its engine may still be starting. */
async function openLoading(t) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, acceptDownloads: true,
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${server.url}/`);
  t.after(async () => {
    await page.screenshot({ path: join(shots, `${t.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`) });
    await context.close();
  });
  return page;
}

/** A fresh page with the engine ready, and the first (welcome) query answered. */
async function open(t) {
  const page = await openLoading(t);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  await page.waitForFunction(() => Number(document.body.dataset.ran) >= 1, null, { timeout: 60_000 });
  return page;
}

/** Data rows in the nation CSV (lines after the header). */
const nationRows = () => readFileSync(join(data, CSV), 'utf8').trim().split('\n').length - 1;

const id = (name) => `[data-testid="${name}"]`;

/** How many queries have finished on the page. */
const ranCount = (page) => page.evaluate(() => Number(document.body.dataset.ran ?? 0));

/** Waits until a query started after `before` finished, or an error is shown. */
async function settled(page, before) {
  await page.waitForFunction(
    (n) => Number(document.body.dataset.ran ?? 0) > n || !document.querySelector('[data-testid="error-message"]').hidden,
    before,
    { timeout: 120_000 },
  );
  await page.waitForFunction(() => !document.body.dataset.busy, null, { timeout: 120_000 });
}

/** Hands files (or a folder) to a file input and waits for what they start. */
async function pick(page, input, paths) {
  const before = await ranCount(page);
  await page.setInputFiles(id(input), paths);
  await settled(page, before);
}

/** Types SQL into the editor and runs it with the Run button. */
async function runSql(page, sql) {
  const before = await ranCount(page);
  await page.fill(id('sql-editor'), sql);
  await page.click(id('run-query'));
  await settled(page, before);
  const error = await page.locator(id('error-message'));
  if (await error.isVisible()) throw new Error(`query failed: ${await error.textContent()}`);
}

/** The rows shown in the grid (the first `n` rendered), as text. */
function gridRows(page, n = 50) {
  return page.evaluate((limit) => {
    const rows = [...document.querySelectorAll('[data-testid="result-grid"] .grid-row')]
      .sort((a, b) => Number(a.dataset.row) - Number(b.dataset.row))
      .slice(0, limit);
    return rows.map((r) => [...r.querySelectorAll('.cell[data-col]')].map((c) => c.textContent));
  }, n);
}

const rowCount = async (page) => Number(await page.getAttribute(id('result-rowcount'), 'data-rows'));

/** Waits until the tables panel lists `name` with its row count filled in. */
async function tableListed(page, name) {
  const item = page.locator(`${id('table-list')} li[data-table="${name}"]`);
  await item.waitFor({ timeout: 120_000 });
  await page.waitForFunction(
    (n) => /rows/.test(document.querySelector(`[data-table="${n}"] .table-meta`)?.textContent ?? ''),
    name,
    { timeout: 120_000 },
  );
  return item;
}

test('Parquet and CSV files through file-input: query, sort, export', { skip }, async (t) => {
  const page = await open(t);
  await pick(page, 'file-input', [join(data, PARQUET), join(data, CSV)]);
  const parquetItem = await tableListed(page, 'alltypes_plain');
  await tableListed(page, 'nation');

  const expected = python(`import json, pyarrow.parquet as pq
t = pq.read_table("${join(data, PARQUET)}")
print(json.dumps({"rows": t.num_rows, "columns": t.column_names, "ids": sum(t.column("id").to_pylist()),
  "max_double": max(t.column("double_col").to_pylist())}))`);
  const columns = await parquetItem.locator('.columns .col-name').allTextContents();
  assert.deepEqual(columns, expected.columns);
  assert.match(await parquetItem.locator('.table-meta').textContent(), new RegExp(`${expected.rows} rows`));

  await runSql(page, 'SELECT count(*) AS n, sum(id) AS s, max(double_col) AS m FROM alltypes_plain');
  assert.equal(await rowCount(page), 1);
  const [[n, s, m]] = await gridRows(page);
  assert.equal(Number(n), expected.rows);
  assert.equal(Number(s), expected.ids);
  assert.equal(Number(m), expected.max_double);

  // The CSV, against Python's csv module.
  const nations = python(`import csv, json
rows = list(csv.DictReader(open("${join(data, CSV)}")))
print(json.dumps([[r["n_nationkey"], r["n_name"]] for r in rows if r["n_regionkey"] == "1"]))`);
  await runSql(page, 'SELECT n_nationkey, n_name FROM nation WHERE n_regionkey = 1');
  assert.equal(await rowCount(page), nations.length);
  assert.match(await page.textContent(id('result-rowcount')), new RegExp(`^${nations.length} rows · \\d`));
  const shown = await gridRows(page);
  assert.deepEqual([...shown].sort(), [...nations].sort());

  // Sorting by a column header: descending on the second click.
  await page.click(`${id('result-grid')} .cell.head[data-col="1"]`);
  const ascending = [...nations].sort((a, b) => (a[1] < b[1] ? -1 : 1));
  assert.deepEqual(await gridRows(page), ascending);
  await page.click(`${id('result-grid')} .cell.head[data-col="1"]`);
  assert.deepEqual(await gridRows(page), [...ascending].reverse());

  // Export as CSV: the rows in the order shown.
  const download = page.waitForEvent('download');
  await page.click(id('export-csv'));
  const file = await (await download).path();
  const csv = readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(csv[0], 'n_nationkey,n_name');
  assert.deepEqual(csv.slice(1), [...ascending].reverse().map((r) => r.join(',')));

  // Parquet export reads back in pyarrow with the same rows.
  const parquetDownload = page.waitForEvent('download');
  await page.click(id('export-parquet'));
  const parquetFile = await (await parquetDownload).path();
  const back = python(`import json, pyarrow.parquet as pq
t = pq.read_table("${parquetFile}")
print(json.dumps([[str(a), b] for a, b in zip(t.column(0).to_pylist(), t.column(1).to_pylist())]))`);
  assert.deepEqual(back, [...ascending].reverse());
});

test('a Delta folder through folder-input, read at two versions with delta-version', { skip }, async (t) => {
  const page = await open(t);
  const answers = oracle(SIMPLE);
  await pick(page, 'folder-input', join(data, SIMPLE));
  const item = await tableListed(page, 'simple_table');
  assert.match(await item.locator('.table-meta').textContent(), new RegExp(`Delta v${answers.version}`));
  assert.equal(await item.locator('.history tbody tr').count(), answers.version + 1);

  await runSql(page, 'SELECT count(*) AS n FROM simple_table');
  assert.equal(Number((await gridRows(page))[0][0]), answers.rows);
  await page.locator(id('time-travel')).waitFor();

  for (const version of ['1', '0']) {
    const ran = await ranCount(page);
    await page.fill(id('delta-version'), version);
    await settled(page, ran);
    assert.equal(Number((await gridRows(page))[0][0]), answers.rows_by_version[version], `rows at version ${version}`);
    assert.match(await page.inputValue(id('sql-editor')), new RegExp(`VERSION AS OF ${version}`));
    assert.match(await page.textContent(id('delta-version-label')), new RegExp(`^${version} of 0–${answers.version}`));
  }
  // Back to the newest.
  const ran = await ranCount(page);
  await page.click(id('delta-latest'));
  await settled(page, ran);
  assert.equal(Number((await gridRows(page))[0][0]), answers.rows);
  assert.doesNotMatch(await page.inputValue(id('sql-editor')), /VERSION AS OF/);
});

test('a corrupt Parquet file or an unsupported Delta table shows an error, and the page keeps working', { skip }, async (t) => {
  const page = await open(t);
  for (const bad of ['cut_short.parquet', 'bad_type.parquet']) {
    const before = await ranCount(page);
    await page.setInputFiles(id('file-input'), join(gen, bad));
    await settled(page, before);
    const error = page.locator(id('error-message'));
    await error.waitFor();
    assert.match(await error.textContent(), new RegExp(`Could not load ${bad}: \\S`));
    assert.equal(await page.locator(`${id('table-list')} li`).count(), 0, 'no table for a corrupt file');
  }
  // An unsupported Delta feature.
  await pick(page, 'folder-input', join(data, CATALOG_OWNED));
  assert.match(await page.textContent(id('error-message')), /Could not load catalog-owned-preview: .*catalog/);
  await runSql(page, 'SELECT 41 + 1 AS answer');
  assert.deepEqual(await gridRows(page), [['42']]);
  assert.equal(await page.locator(id('error-message')).isVisible(), false);

  // Bad SQL: the engine's message next to the editor, and no longer the result of the
  // query before it, which would read as this one's.
  const before = await ranCount(page);
  await page.fill(id('sql-editor'), 'SELEC 1');
  await page.click(id('run-query'));
  await settled(page, before);
  assert.match(await page.textContent(id('error-message')), /SELEC/);
  assert.deepEqual(await gridRows(page), []);
  assert.equal(await page.locator(`${id('result-grid')} .cell.head`).count(), 0, 'no old column headers');
  assert.equal(await page.textContent(id('result-rowcount')), '');
  assert.equal(await page.isDisabled(id('export-csv')), true, 'nothing to export');
});

test('files picked and dropped while the engine starts become tables once it has started', { skip }, async (t) => {
  let release;
  wasmHeld = new Promise((resolve) => {
    release = resolve;
  });
  t.after(() => {
    release();
    wasmHeld = null;
  });
  const page = await openLoading(t);
  await page.setInputFiles(id('file-input'), join(data, PARQUET));
  await page.evaluate(async (url) => {
    const bytes = await (await fetch(url)).arrayBuffer();
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'nation.csv', { type: 'text/csv' }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, cancelable: true }));
  }, `${server.url}/data/${CSV}`);
  // Both arrived before the engine could start: the module is still held back.
  await page.waitForFunction(() => /nation\.csv/.test(document.querySelector('[data-testid="engine-status"]').textContent));
  assert.equal(await page.evaluate(() => document.body.dataset.ready), undefined, 'the engine is still starting');
  assert.match(await page.textContent(id('engine-status')), /^Starting the engine… then loading alltypes_plain\.parquet, nation\.csv$/);

  release();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  await tableListed(page, 'alltypes_plain');
  await tableListed(page, 'nation');
  // The last table's query, run in place of the welcome query.
  await page.waitForFunction(() => Number(document.body.dataset.ran) >= 1 && !document.body.dataset.busy, null, {
    timeout: 120_000,
  });
  assert.equal(await page.locator(id('error-message')).isVisible(), false);
  assert.match(await page.inputValue(id('sql-editor')), /FROM nation\b/);
  await runSql(page, 'SELECT count(*) AS n FROM alltypes_plain');
  assert.equal(Number((await gridRows(page))[0][0]), 8);
  await runSql(page, 'SELECT count(*) AS n FROM nation');
  assert.equal(Number((await gridRows(page))[0][0]), nationRows());
});

test('a long query shows progress, the page stays responsive, and Cancel stops it', { skip }, async (t) => {
  const page = await open(t);
  await pick(page, 'file-input', join(data, CSV));
  await tableListed(page, 'nation');

  await page.fill(id('sql-editor'), 'SELECT count(DISTINCT a.x * 7 + b.x) FROM generate_series(1, 30000) a(x), generate_series(1, 30000) b(x)');
  await page.click(id('run-query'));
  const progress = page.locator(id('progress'));
  await progress.waitFor();
  const first = await progress.textContent();
  await page.waitForTimeout(800);
  // The elapsed time keeps counting: the page repaints while the worker computes.
  assert.notEqual(await progress.textContent(), first);
  await page.screenshot({ path: join(shots, 'long-query-running.png') });
  await page.click(id('cancel-query'));
  await page.waitForFunction(() => /Query cancelled/.test(document.querySelector('[data-testid="notice"]').textContent));
  await page.waitForFunction(() => !document.body.dataset.busy);
  assert.equal(await page.locator(id('error-message')).isVisible(), false);

  // The restarted engine still has the table.
  await runSql(page, 'SELECT count(*) AS n FROM nation');
  assert.equal(Number((await gridRows(page))[0][0]), nationRows());
});

test('the sample data and its charts: bars for a grouped query, a line over time', { skip }, async (t) => {
  const page = await open(t);
  const before = await ranCount(page);
  await page.click(id('sample-data'));
  await settled(page, before);
  await tableListed(page, 'weather');
  // The sample's query ran: one row per city.
  assert.equal(await rowCount(page), 6);
  await page.click(id('tab-chart'));
  const chart = page.locator(id('chart'));
  await chart.locator('svg').waitFor();
  assert.equal(await chart.locator('rect.bar').count(), 6);
  assert.equal(await page.inputValue(id('chart-type')), 'bar');

  await runSql(page, 'SELECT day, avg(temperature_c) AS t FROM weather GROUP BY day ORDER BY day');
  assert.equal(await page.inputValue(id('chart-type')), 'line');
  const d = await chart.locator('path.line').getAttribute('d');
  assert.equal((d.match(/[ML]/g) ?? []).length, await rowCount(page), 'one point per day');

  await page.selectOption(id('chart-type'), 'scatter');
  assert.equal(await chart.locator('circle.dot').count(), await rowCount(page));
});

test('the market sample: an ASOF JOIN of trades with quotes, in time buckets', { skip }, async (t) => {
  const page = await open(t);
  const before = await ranCount(page);
  await page.click(id('sample-market'));
  await settled(page, before);
  await tableListed(page, 'trades');
  await tableListed(page, 'quotes');
  // Three symbols over six 10-minute buckets; every trade is at or after the first quote, so
  // the inner ASOF join keeps all 4500.
  assert.equal(await rowCount(page), 18);
  const rows = await gridRows(page);
  assert.equal(rows.reduce((sum, r) => sum + Number(r[2]), 0), 4500);
  // Quotes come every 5 seconds, so the quote in force is the one less than 5 s before.
  await runSql(page, `SELECT count(*) AS n, count(*) FILTER (WHERE q.ts <= t.ts AND t.ts < q.ts + INTERVAL '5 seconds') AS ok
    FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts`);
  assert.deepEqual((await gridRows(page))[0].map(Number), [4500, 4500]);
});

test('COVID-19_NYT: drop the folder, see its columns, chart a grouped query', { skip }, async (t) => {
  const page = await open(t);
  const answers = oracle(COVID);
  await pick(page, 'folder-input', join(data, COVID));
  const item = await tableListed(page, 'covid_19_nyt');
  assert.match(await item.locator('.table-meta').textContent(), new RegExp(`${answers.rows.toLocaleString('en-US')} rows`));
  assert.deepEqual(await item.locator('.columns .col-name').allTextContents(), ['date', 'county', 'state', 'fips', 'cases', 'deaths']);

  const expected = python(`import json, glob, pyarrow as pa, pyarrow.parquet as pq, pyarrow.compute as pc
t = pa.concat_tables([pq.read_table(f) for f in sorted(glob.glob("${join(data, COVID)}/*.parquet"))])
g = t.group_by("state").aggregate([("cases", "sum")]).sort_by([("cases_sum", "descending")]).slice(0, 10)
print(json.dumps([[s, c] for s, c in zip(g.column("state").to_pylist(), g.column("cases_sum").to_pylist())]))`);
  await runSql(page, 'SELECT state, sum(cases) AS cases FROM covid_19_nyt GROUP BY state ORDER BY cases DESC LIMIT 10');
  const rows = await gridRows(page);
  assert.deepEqual(rows.map(([s, c]) => [s, Number(c)]), expected);
  await page.click(id('tab-chart'));
  await page.locator(`${id('chart')} rect.bar`).first().waitFor();
  assert.equal(await page.locator(`${id('chart')} rect.bar`).count(), 10);
});

test('load from URL: a Parquet file and a Delta table over HTTP', { skip }, async (t) => {
  const page = await open(t);
  for (const [path, name] of [[PARQUET, 'alltypes_plain'], [SIMPLE, 'simple_table']]) {
    const before = await ranCount(page);
    await page.fill(id('url-input'), `${server.url}/data/${path}`);
    await page.click(id('url-load'));
    await settled(page, before);
    await tableListed(page, name);
  }
  await runSql(page, 'SELECT count(*) AS n FROM alltypes_plain');
  assert.equal(Number((await gridRows(page))[0][0]), 8);
  await runSql(page, 'SELECT count(*) AS n FROM simple_table');
  assert.equal(Number((await gridRows(page))[0][0]), oracle(SIMPLE).rows);
  await page.locator(id('time-travel')).waitFor();
});

test('editor: completion, Ctrl+Enter, Explain, copy a cell, and history after a reload', { skip }, async (t) => {
  const page = await open(t);
  await pick(page, 'file-input', join(data, CSV));
  await tableListed(page, 'nation');

  await page.fill(id('sql-editor'), '');
  await page.focus(id('sql-editor'));
  await page.keyboard.type('SELECT n_nam');
  const completions = page.locator(id('completions'));
  await completions.waitFor();
  assert.ok((await completions.textContent()).includes('n_name'));
  await page.keyboard.press('Tab');
  await page.keyboard.type(' FROM nat');
  await completions.waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.inputValue(id('sql-editor')), 'SELECT n_name FROM nation');
  // Highlighting: keywords and the table name get their colours.
  assert.equal(await page.locator(`${id('editor')} pre .tok-keyword`).count(), 2);
  assert.equal(await page.locator(`${id('editor')} pre .tok-table`).count(), 1);

  const ran = await ranCount(page);
  await page.keyboard.press('Control+Enter');
  await settled(page, ran);
  assert.equal(await rowCount(page), nationRows());

  await page.click(id('explain-query'));
  await page.waitForFunction(() => /physical_plan/.test(document.querySelector('[data-testid="plan"]').textContent));

  await page.click(id('tab-grid'));
  const cellText = await page.textContent(`${id('result-grid')} .grid-row[data-row="0"] .cell[data-col="0"]`);
  await page.dblclick(`${id('result-grid')} .grid-row[data-row="0"] .cell[data-col="0"]`);
  await page.waitForFunction((text) => document.querySelector('[data-testid="notice"]').textContent.includes(text), cellText);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), cellText);

  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  const history = await page.locator(`${id('query-history')} option`).allTextContents();
  assert.ok(history.includes('SELECT n_name FROM nation'), JSON.stringify(history));
});

test('a million-row result scrolls through the virtual grid', { skip }, async (t) => {
  const page = await open(t);
  await runSql(page, 'SELECT value AS n, value * 2 AS twice FROM generate_series(1, 1000000)');
  assert.equal(await rowCount(page), 1_000_000);
  assert.match(await page.textContent(id('result-rowcount')), /^1,000,000 rows/);
  // Only a window of rows is in the page, wherever it is scrolled to.
  assert.ok((await page.locator(`${id('result-grid')} .grid-row`).count()) < 100);
  await page.evaluate(() => {
    const grid = document.querySelector('[data-testid="result-grid"]');
    grid.scrollTop = grid.scrollHeight;
  });
  await page.waitForFunction(() => document.querySelector('[data-testid="result-grid"] .grid-row[data-row="999999"]'));
  const last = await page.textContent(`${id('result-grid')} .grid-row[data-row="999999"] .cell[data-col="1"]`);
  assert.equal(last, '2000000');
});

test('files dropped on the page become tables, which can be renamed and removed', { skip }, async (t) => {
  const page = await open(t);
  const before = await ranCount(page);
  // A drop as the browser delivers it: a DataTransfer holding File objects.
  await page.evaluate(async (url) => {
    const bytes = await (await fetch(url)).arrayBuffer();
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'nation.csv', { type: 'text/csv' }));
    window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: transfer }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, cancelable: true }));
  }, `${server.url}/data/${CSV}`);
  await settled(page, before);
  await tableListed(page, 'nation');
  assert.equal(await rowCount(page), nationRows());
  assert.equal(await page.locator(id('drop-overlay')).isVisible(), false);

  await page.click(`li[data-table="nation"] ${id('rename-table')}`);
  await page.fill(id('rename-input'), 'Countries');
  await page.press(id('rename-input'), 'Enter');
  await tableListed(page, 'countries');
  assert.match(await page.inputValue(id('sql-editor')), /FROM countries\b/);
  await runSql(page, 'SELECT count(*) AS n FROM countries');
  assert.equal(Number((await gridRows(page))[0][0]), nationRows());

  // Arrow IPC export reads back in pyarrow.
  const download = page.waitForEvent('download');
  await page.click(id('export-arrow'));
  const file = await (await download).path();
  const back = python(`import json, pyarrow as pa
print(json.dumps(pa.ipc.open_stream(open("${file}", "rb")).read_all().column(0).to_pylist()))`);
  assert.deepEqual(back, [nationRows()]);

  await page.click(`li[data-table="countries"] ${id('remove-table')}`);
  await page.locator(`li[data-table="countries"]`).waitFor({ state: 'detached' });
  await page.fill(id('sql-editor'), 'SELECT * FROM countries');
  await page.click(id('run-query'));
  await page.locator(id('error-message')).waitFor();
  assert.match(await page.textContent(id('error-message')), /countries/);
});
