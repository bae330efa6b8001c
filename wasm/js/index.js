// Quiver for browsers, bundlers and Node 20: the engine compiled to WebAssembly, with
// results as Apache Arrow.
//
// `Quiver` runs the engine on the calling thread; `AsyncQuiver` runs it in a Web Worker
// with the same API, so a page stays responsive during a long query and can cancel it.

import { tableFromIPC } from 'apache-arrow';
import { QuiverCore, QuiverError } from './core.js';

export { QuiverError };

function rowsOf(table) {
  return table.toArray().map((row) => row.toJSON());
}

/** The engine on the calling thread. */
export class Quiver extends QuiverCore {
  /** Runs SQL and returns an `apache-arrow` Table over the result (no copy of the data). */
  async queryTable(sql) {
    return tableFromIPC(await this.query(sql));
  }

  /** Runs SQL and returns the rows as plain objects. */
  async queryRows(sql) {
    return rowsOf(await this.queryTable(sql));
  }

  /** Runs SQL and yields its `apache-arrow` RecordBatches as the engine produces them. */
  async *queryStream(sql) {
    for await (const bytes of this.queryIpcStream(sql)) yield* tableFromIPC(bytes).batches;
  }
}

/** The same API as `Quiver`, with the engine in a Web Worker. `cancel()` stops a running
 * query at once (the worker is replaced and the tables registered again). */
export class AsyncQuiver {
  #options;
  #worker;
  #next = 0;
  #pending = new Map();
  #tables = new Map();
  #version;
  /** settles when the current worker has started and has the tables */
  #ready;

  constructor(options = {}) {
    this.#options = options;
  }

  static async create(options = {}) {
    if (typeof Worker === 'undefined') {
      throw new QuiverError('AsyncQuiver needs Web Workers (a browser); use Quiver in Node');
    }
    const quiver = new AsyncQuiver(options);
    await quiver.#start();
    return quiver;
  }

  /** Starts a worker and registers the known tables in it; calls made meanwhile wait. */
  #start() {
    this.#worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.#worker.onmessage = ({ data }) => {
      const pending = this.#pending.get(data.id);
      if (!pending) return;
      this.#pending.delete(data.id);
      if (data.error) pending.reject(new QuiverError(data.error));
      else pending.resolve(data.result);
    };
    this.#worker.onerror = (event) => {
      const error = new QuiverError(`the worker failed: ${event.message ?? 'unknown error'}`);
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    this.#ready = (async () => {
      this.#version = await this.#post('create', [this.#options]);
      for (const [method, args] of this.#tables.values()) await this.#post(method, args);
    })();
    return this.#ready;
  }

  /** Sends a call to the worker as it is now. */
  #post(method, args) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, method, args });
    });
  }

  /** Sends a call once the worker is ready (after a start or a cancel's restart). */
  async #send(method, args) {
    try {
      await this.#ready;
    } catch {
      // A restart that failed part-way (a table that no longer registers) still leaves a
      // worker to talk to; the call gets its own answer.
    }
    return this.#post(method, args);
  }

  async #register(method, name, args) {
    const table = await this.#send(method, args);
    this.#tables.set(table, [method, args]);
    return table;
  }

  registerFile(name, data, options = {}) {
    return this.#register('registerFile', name, [name, data, options]);
  }

  registerUrl(name, url) {
    return this.#register('registerUrl', name, [name, String(url)]);
  }

  registerFiles(name, files) {
    return this.#register('registerFiles', name, [name, files]);
  }

  async unregister(name) {
    this.#tables.delete(name);
    return this.#send('unregister', [name]);
  }

  query(sql) {
    return this.#send('query', [sql]);
  }

  async queryTable(sql) {
    return tableFromIPC(await this.query(sql));
  }

  async queryRows(sql) {
    return rowsOf(await this.queryTable(sql));
  }

  async *queryStream(sql) {
    yield* (await this.queryTable(sql)).batches;
  }

  tables() {
    return this.#send('tables', []);
  }

  schema(name) {
    return this.#send('schema', [name]);
  }

  explain(sql) {
    return this.#send('explain', [sql]);
  }

  convert(ipc, format, options = {}) {
    return this.#send('convert', [ipc, format, options]);
  }

  /** Stops whatever runs now: pending calls reject with "query cancelled". */
  async cancel() {
    const error = new QuiverError('query cancelled');
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#worker.terminate();
    await this.#start();
  }

  /** Ends the worker. */
  terminate() {
    this.#worker.terminate();
  }

  get version() {
    return this.#version;
  }
}
