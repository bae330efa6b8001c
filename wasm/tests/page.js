// The browser side of browser.test.mjs: the environment the shared cases expect, and the
// browser-only checks.

import * as quiver from 'quiver-wasm';
import * as arrow from 'apache-arrow';
import { cases } from './cases.js';
import { badFiles } from './bad_files.js';

const { Quiver, AsyncQuiver } = quiver;

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function list(folder) {
  const response = await fetch(`/list/testdata/${folder}`);
  return (await response.json()).map((name) => `${folder}/${name}`);
}

const env = {
  Quiver,
  arrow,
  load: (path) => fetchBytes(`/testdata/${path}`),
  blob: async (path) => new File([await fetchBytes(`/testdata/${path}`)], path.split('/').pop()),
  // A folder's files as File objects: the engine reads them by range.
  deltaFiles: async (folder) => {
    const files = new Map();
    for (const path of await list(folder)) {
      const name = path.slice(folder.length + 1);
      files.set(name, new File([await fetchBytes(`/testdata/${path}`)], name.split('/').pop()));
    }
    return files;
  },
  list,
};

/** A File that counts the bytes the engine slices out of it. */
class CountingFile extends File {
  sliced = 0;
  slice(start, end, type) {
    this.sliced += (end ?? this.size) - (start ?? 0);
    return super.slice(start, end, type);
  }
}

const SELECTIVE = 'SELECT count(*) AS count, sum(value) AS sum FROM big WHERE id >= 500000 AND id < 500100';

window.harness = {
  run: (name) => cases[name](env),
  badFiles: () => badFiles(env),

  async blobByRange(url) {
    const file = new CountingFile([await fetchBytes(url)], 'big.parquet');
    const q = await Quiver.create();
    await q.registerFile('big.parquet', file);
    const [row] = await q.queryRows(SELECTIVE);
    return { count: Number(row.count), sum: Number(row.sum), sliced: file.sliced };
  },

  async byUrl(url) {
    const q = await Quiver.create();
    await q.registerUrl('big', url);
    const [row] = await q.queryRows(SELECTIVE);
    return { count: Number(row.count), sum: Number(row.sum) };
  },

  async worker() {
    const q = await AsyncQuiver.create();
    await q.registerFile('alltypes_plain.parquet', await env.load('parquet-testing/data/alltypes_plain.parquet'));
    const [row] = await q.queryRows('SELECT count(*) AS n FROM alltypes_plain');
    if (Number(row.n) !== 8) throw new Error(`worker count ${row.n}`);
    // A long query: the page keeps running timers meanwhile, and cancel stops it.
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 20);
    const long = q.query('SELECT count(DISTINCT a.x * 7 + b.x) FROM generate_series(1, 20000) a(x), generate_series(1, 20000) b(x)');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const cancelling = q.cancel();
    let cancelled = false;
    try {
      await long;
    } catch (e) {
      cancelled = /cancelled/.test(e.message);
    }
    await cancelling;
    clearInterval(timer);
    // The restarted worker has the table again.
    const [again] = await q.queryRows('SELECT count(*) AS n FROM alltypes_plain');
    q.terminate();
    return { cancelled, ticks, after: Number(again.n) };
  },
};
