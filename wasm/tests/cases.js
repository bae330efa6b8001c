// Test functions shared by the Node run (node.test.mjs) and the headless Chromium run
// (browser.test.mjs). Each takes an environment:
//   Quiver       the package's class, as a user imports it
//   arrow        the apache-arrow module, an independent reader of Arrow IPC
//   load(path)   a file under ../shared/testdata as a Uint8Array
//   blob(path)   the same file as a Blob/File (read by range)
//   deltaFiles(path)  a folder's files as a Map from path inside it to bytes or Blob
// and throws on a wrong answer. Answers come from independent readers (apache-arrow, a
// plain CSV/JSON parse, the pyarrow oracle), never from Quiver itself.

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function equal(got, want, what) {
  const g = JSON.stringify(got, (_, v) => (typeof v === 'bigint' ? Number(v) : v));
  const w = JSON.stringify(want, (_, v) => (typeof v === 'bigint' ? Number(v) : v));
  check(g === w, `${what}: got ${g}, want ${w}`);
}

async function rejects(promise, pattern, what) {
  try {
    await promise;
  } catch (e) {
    check(e instanceof Error, `${what}: rejected with a non-Error ${e}`);
    check(pattern.test(e.message), `${what}: message "${e.message}" does not match ${pattern}`);
    return e;
  }
  throw new Error(`${what}: did not fail`);
}

const PARQUET = 'parquet-testing/data/alltypes_plain.parquet';
const PARQUET_DELTA = 'parquet-testing/data/delta_binary_packed.parquet';
const PARQUET_DELTA_EXPECT = 'parquet-testing/data/delta_binary_packed_expect.csv';
const CSV = 'datafusion-slt/testing/data/csv/aggregate_test_100.csv';
const JSON_LINES = 'datafusion-slt/datafusion/core/tests/data/2.json';
const ARROW_FILE = 'datafusion-slt/datafusion/datasource-arrow/tests/data/example.arrow';
const ARROW_STREAM = 'datafusion-slt/datafusion/datasource-arrow/tests/data/example_stream.arrow';
const DELTA = 'delta-rs/crates/test/tests/data/simple_table';

export const cases = {
  async parquet({ Quiver, load }) {
    const q = await Quiver.create();
    const table = await q.registerFile('alltypes_plain.parquet', await load(PARQUET));
    equal(table, 'alltypes_plain', 'table name');
    const rows = await q.queryRows('SELECT count(*) AS n, sum(id) AS s FROM alltypes_plain');
    // The file holds ids 0..7 (parquet-testing's README, pyarrow agrees).
    equal(rows, [{ n: 8, s: 28 }], 'count and sum');
    equal(await q.tables(), ['alltypes_plain'], 'tables()');
    const schema = await q.schema('alltypes_plain');
    check(schema.some((c) => c.name === 'bool_col' && c.type === 'Boolean'), 'schema has bool_col');
    // The same file queried by its path.
    const byPath = await q.queryRows("SELECT max(id) AS m FROM 'alltypes_plain.parquet'");
    equal(byPath, [{ m: 7 }], 'FROM path');
  },

  async parquetEqualsItsExpectedCsv({ Quiver, load }) {
    const q = await Quiver.create();
    await q.registerFile('packed.parquet', await load(PARQUET_DELTA));
    const csv = new TextDecoder().decode(await load(PARQUET_DELTA_EXPECT)).trim().split('\n');
    const header = csv[0].split(',');
    const first = header[0];
    const last = header[header.length - 1];
    const want = csv.slice(1).map((line) => {
      const cells = line.split(',');
      return [Number(cells[0]), Number(cells[cells.length - 1])];
    });
    const table = await q.queryTable(`SELECT "${first}", "${last}" FROM packed`);
    const got = table.toArray().map((r) => [Number(r[first]), Number(r[last])]);
    equal(got, want, 'delta_binary_packed.parquet against its _expect.csv');
  },

  async csv({ Quiver, load }) {
    const q = await Quiver.create();
    const bytes = await load(CSV);
    await q.registerFile('aggregate_test_100.csv', bytes);
    const lines = new TextDecoder().decode(bytes).trim().split('\n').slice(1);
    const c2 = lines.map((l) => Number(l.split(',')[1]));
    const rows = await q.queryRows(
      'SELECT count(*) AS n, sum(c2) AS s, count(DISTINCT c1) AS k FROM aggregate_test_100',
    );
    const distinct = new Set(lines.map((l) => l.split(',')[0])).size;
    equal(rows, [{ n: lines.length, s: c2.reduce((a, b) => a + b, 0), k: distinct }], 'csv aggregate');
    // Strings come back as strings (the engine's string views leave as plain Utf8).
    const firstC1 = [...new Set(lines.map((l) => l.split(',')[0]))].sort();
    const got = await q.queryRows('SELECT DISTINCT c1 FROM aggregate_test_100 ORDER BY c1');
    equal(got.map((r) => r.c1), firstC1, 'distinct c1');
  },

  async json({ Quiver, load }) {
    const q = await Quiver.create();
    const bytes = await load(JSON_LINES);
    // No extension in the name: the format is found from the first bytes.
    const table = await q.registerFile('events', bytes);
    equal(table, 'events', 'table name');
    const records = new TextDecoder()
      .decode(bytes)
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
    const rows = await q.queryRows('SELECT count(*) AS n FROM events');
    equal(rows, [{ n: records.length }], 'ndjson count');
    const key = Object.keys(records[0]).find((k) => typeof records[0][k] === 'number');
    const sum = records.reduce((a, r) => a + (typeof r[key] === 'number' ? r[key] : 0), 0);
    const got = await q.queryRows(`SELECT sum("${key}") AS s FROM events`);
    check(Math.abs(Number(got[0].s) - sum) < 1e-6 * Math.max(1, Math.abs(sum)), `sum of ${key}: ${got[0].s} vs ${sum}`);
  },

  async arrowIpc({ Quiver, load, arrow }) {
    const q = await Quiver.create();
    for (const [name, path] of [['file.arrow', ARROW_FILE], ['stream.arrow', ARROW_STREAM]]) {
      const bytes = await load(path);
      const want = arrow.tableFromIPC(bytes);
      const table = await q.registerFile(name, bytes);
      const got = await q.queryTable(`SELECT * FROM ${table}`);
      equal(got.numRows, want.numRows, `${name} rows`);
      equal(
        got.schema.fields.map((f) => f.name),
        want.schema.fields.map((f) => f.name),
        `${name} columns`,
      );
      equal(
        got.toArray().map((r) => r.toJSON()),
        want.toArray().map((r) => r.toJSON()),
        `${name} values as apache-arrow reads them`,
      );
    }
  },

  async resultsAreArrow({ Quiver, arrow }) {
    const q = await Quiver.create({ batchSize: 1000 });
    const bytes = await q.query('SELECT * FROM generate_series(1, 2500) t(x)');
    check(bytes instanceof Uint8Array, 'query() gives bytes');
    const table = arrow.tableFromIPC(bytes);
    equal(table.numRows, 2500, 'rows');
    let batches = 0;
    let rows = 0;
    for await (const batch of q.queryStream('SELECT * FROM generate_series(1, 2500) t(x)')) {
      batches += 1;
      rows += batch.numRows;
    }
    equal(rows, 2500, 'streamed rows');
    check(batches >= 3, `streamed in batches of 1000 (got ${batches})`);
    check(typeof q.version === 'string' && q.version.length > 0, 'version');
    const plan = await q.explain('SELECT x FROM generate_series(1, 3) t(x) WHERE x > 1');
    check(/Filter|filter/.test(plan), `explain shows the plan: ${plan}`);
  },

  async convertReencodesAResult({ Quiver, arrow }) {
    const q = await Quiver.create({ batchSize: 2 });
    const ipc = await q.query("SELECT * FROM (VALUES (1, 'one'), (2, 'two'), (3, 'three')) t(n, word)");
    const csv = new TextDecoder().decode(await q.convert(ipc, 'csv'));
    equal(csv, 'n,word\n1,one\n2,two\n3,three\n', 'CSV');
    // Rows picked and ordered, across batch boundaries, as a page shows a sorted result.
    const picked = arrow.tableFromIPC(await q.convert(ipc, 'arrow', { rows: [2, 0] }));
    equal(picked.getChild('word').toArray(), ['three', 'one'], 'picked rows');
    const parquet = await q.convert(ipc, 'parquet');
    equal(new TextDecoder().decode(parquet.subarray(0, 4)), 'PAR1', 'Parquet magic');
    // The Parquet bytes are a file the engine reads back.
    await q.registerFile('back.parquet', parquet);
    equal(await q.queryRows('SELECT sum(n) AS s FROM back'), [{ s: 6 }], 'Parquet read back');
    await rejects(q.convert(ipc, 'xlsx'), /unknown format/, 'unknown format');
    await rejects(q.convert(ipc, 'csv', { rows: [3] }), /past the end/, 'row out of range');
  },

  async delta({ Quiver, load, deltaFiles }) {
    const q = await Quiver.create();
    await q.registerFiles('simple', await deltaFiles(DELTA));
    // delta-rs's simple_table: five versions; deltalake 1.6.6 reads ids 5, 7, 9 at the newest.
    equal(await q.queryRows('SELECT id FROM simple ORDER BY id'), [{ id: 5 }, { id: 7 }, { id: 9 }], 'newest');
    equal(
      await q.queryRows('SELECT count(*) AS n FROM simple VERSION AS OF 0'),
      [{ n: 5 }],
      'version 0',
    );
    const history = await q.queryRows('SELECT version, operation FROM delta_history(simple) ORDER BY version');
    equal(history.map((h) => h.operation), ['WRITE', 'MERGE', 'WRITE', 'UPDATE', 'DELETE'], 'history');
  },

  async errors({ Quiver, load }) {
    const q = await Quiver.create();
    await rejects(q.query('SELEC 1'), /SELEC|syntax|Expected/i, 'bad SQL');
    await rejects(q.query('SELECT * FROM nowhere'), /nowhere/, 'missing table');
    await rejects(q.query('INSERT INTO t VALUES (1)'), /native-only/, 'a write');
    await rejects(q.query("COPY (SELECT 1) TO 'out.parquet'"), /native-only/, 'COPY');
    await rejects(q.registerFile('bad.parquet', new TextEncoder().encode('PAR1 not really')), /./, 'corrupt file');
    // The instance still works.
    await q.registerFile('alltypes_plain.parquet', await load(PARQUET));
    equal(await q.queryRows('SELECT count(*) AS n FROM alltypes_plain'), [{ n: 8 }], 'after errors');
  },

  async unregister({ Quiver, load }) {
    const q = await Quiver.create();
    await q.registerFile('alltypes_plain.parquet', await load(PARQUET));
    equal(await q.unregister('alltypes_plain'), true, 'unregister');
    equal(await q.tables(), [], 'no tables');
    await rejects(q.query('SELECT * FROM alltypes_plain'), /alltypes_plain/, 'gone');
  },
};
