// The engine on the calling thread, with results as Arrow IPC bytes. It imports nothing
// but the module's own glue, so the Web Worker behind AsyncQuiver can load it without an
// import map; index.js adds the apache-arrow conveniences on top.

import * as firstGlue from './quiver_wasm.js';

const isNode =
  typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
const wasmUrl = new URL('./quiver_wasm_bg.wasm', import.meta.url);

let compiled;
/** The compiled module, shared by every instance (compiling is the slow part). */
function compileModule() {
  compiled ??= (async () => {
    if (isNode) {
      const { readFile } = await import(/* @vite-ignore */ 'node:fs/promises');
      return WebAssembly.compile(await readFile(wasmUrl));
    }
    const response = await fetch(wasmUrl);
    if (!response.ok) throw new Error(`cannot load ${wasmUrl}: HTTP ${response.status}`);
    return WebAssembly.compile(await response.arrayBuffer());
  })();
  return compiled;
}

/** Node's filesystem for `file://` paths (absolute paths in SQL), read by range. */
async function nodeFiles() {
  const fs = await import(/* @vite-ignore */ 'node:fs/promises');
  const { join } = await import(/* @vite-ignore */ 'node:path');
  const stat = async (path) => {
    try {
      const s = await fs.stat(path);
      return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : null;
    } catch {
      return null;
    }
  };
  return {
    stat,
    async read(path, start, end) {
      const handle = await fs.open(path);
      try {
        const buffer = new Uint8Array(end - start);
        let done = 0;
        while (done < buffer.length) {
          const { bytesRead } = await handle.read(buffer, done, buffer.length - done, start + done);
          if (bytesRead === 0) throw new Error(`${path} ended at ${start + done} bytes`);
          done += bytesRead;
        }
        return buffer;
      } finally {
        await handle.close();
      }
    },
    async list(folder) {
      const out = [];
      const walk = async (dir) => {
        let entries;
        try {
          entries = await fs.readdir(dir, { withFileTypes: true });
        } catch {
          return;
        }
        for (const entry of entries) {
          const full = join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else if (entry.isFile()) out.push({ path: full, ...(await stat(full)) });
        }
      };
      await walk(folder);
      return out;
    },
  };
}

let instances = 0;
/** A fresh instance of the module and its glue. After a panic an instance is unusable (wasm
 * has no unwinding), so a restart needs a new copy of the glue module as well; the old copy
 * releases its instance (`__quiver_release`, added by scripts/build-wasm.sh). */
async function instantiate() {
  const module = await compileModule();
  instances += 1;
  const glue =
    instances === 1
      ? firstGlue
      : await import(/* @vite-ignore */ `./quiver_wasm.js?instance=${instances}`);
  const exports = await glue.default({ module_or_path: module });
  return { glue, exports };
}

/** A panic in the engine: the instance is gone and must be replaced. */
class Crash extends Error {}

/** Instances whose engine panicked a moment ago: the trap that follows a panic inside an
 * async query surfaces as an uncaught exception, which would end a Node process. */
let recentCrashes = 0;
let guardInstalled = false;

/** In Node, swallows the uncaught `RuntimeError: unreachable` that follows a reported
 * panic (the wrapper has already failed the call and restarted the engine); any other
 * uncaught exception still ends the process, as it would without this guard. */
function guardNodeProcess() {
  if (!isNode || guardInstalled) return;
  guardInstalled = true;
  process.on('uncaughtException', (error) => {
    if (error instanceof WebAssembly.RuntimeError && recentCrashes > 0) {
      recentCrashes -= 1;
      return;
    }
    if (process.listenerCount('uncaughtException') === 1) {
      console.error(error);
      process.exit(1);
    }
  });
}

/** An error from the engine: bad SQL, a missing table, a corrupt file, a write. */
export class QuiverError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'QuiverError';
  }
}

const EXTENSIONS = ['parquet', 'csv', 'tsv', 'json', 'ndjson', 'jsonl', 'arrow', 'arrows', 'ipc', 'feather'];

function extensionOf(name) {
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  return EXTENSIONS.includes(ext) ? ext : '';
}

/** The table name for a file name: its base name without a known extension. */
function tableNameOf(name) {
  const base = name.split('/').filter(Boolean).pop() ?? name;
  const ext = extensionOf(base);
  return ext ? base.slice(0, -(ext.length + 1)) : base;
}

function isBlob(data) {
  return typeof Blob !== 'undefined' && data instanceof Blob;
}

async function firstBytes(data, n) {
  if (isBlob(data)) return new Uint8Array(await data.slice(0, n).arrayBuffer());
  return data.subarray(0, n);
}

/** The format of data with no telling file name, from its first bytes. */
async function sniff(data) {
  const head = await firstBytes(data, 8);
  const text = new TextDecoder().decode(head);
  if (text.startsWith('PAR1')) return 'parquet';
  if (text.startsWith('ARROW1')) return 'arrow';
  if (head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff) return 'arrows';
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') return 'json';
  return 'csv';
}

function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/** The engine on the calling thread; results as Arrow IPC bytes. */
export class QuiverCore {
  #options;
  #glue;
  #exports;
  #engine;
  /** name -> how to register it again in a fresh instance */
  #tables = new Map();
  /** name -> the files registered with it (a path below memory:///) */
  #paths = new Map();
  /** rejecters of the calls in flight, failed at once when the engine panics */
  #inFlight = new Set();

  constructor(options = {}) {
    this.#options = options;
  }

  /** A ready instance. `memoryLimit` (bytes) caps what queries hold; `batchSize` is rows per
   * record batch; in Node, `localFiles: false` keeps SQL from reading local paths. */
  static async create(options = {}) {
    const quiver = new this(options);
    await quiver.#start();
    return quiver;
  }

  async #start() {
    const { glue, exports } = await instantiate();
    this.#glue = glue;
    this.#exports = exports;
    // In Node, absolute paths in SQL read local files unless `localFiles: false`.
    const files = isNode && this.#options.localFiles !== false ? await nodeFiles() : undefined;
    guardNodeProcess();
    const onPanic = (message) => {
      recentCrashes += 1;
      for (const fail of this.#inFlight) fail(new Crash(message));
    };
    this.#engine = new glue.Engine(this.#options.memoryLimit, this.#options.batchSize, files, onPanic);
    for (const register of this.#tables.values()) await register(this.#engine);
  }

  /** Runs `work` on the engine; a crash restarts the module with the same tables. */
  async #call(work) {
    let fail;
    const crashed = new Promise((_, reject) => {
      fail = reject;
    });
    this.#inFlight.add(fail);
    try {
      return await Promise.race([work(this.#engine), crashed]);
    } catch (e) {
      if (e instanceof Crash || e instanceof WebAssembly.RuntimeError) {
        // A trap caught here is not an uncaught one for the Node guard to expect.
        if (e instanceof WebAssembly.RuntimeError) recentCrashes = Math.max(0, recentCrashes - 1);
        const what = e.message;
        // Every other call in flight on the dead instance fails too.
        for (const other of this.#inFlight) other(new Crash(what));
        this.#inFlight.clear();
        try {
          // Let the dead instance go, so its memory is freed rather than kept by the old
          // copy of the glue for the life of the page.
          this.#engine = undefined;
          this.#exports = undefined;
          this.#glue.__quiver_release();
          await this.#start();
        } catch (restartError) {
          throw new QuiverError(`the engine crashed (${what}) and could not restart: ${restartError.message}`, { cause: e });
        }
        throw new QuiverError(
          `the engine crashed (${what}); it was restarted and its tables registered again`,
          { cause: e },
        );
      }
      throw new QuiverError(e?.message ?? String(e), { cause: e });
    } finally {
      this.#inFlight.delete(fail);
    }
  }

  async #register(name, register) {
    await this.#call(register);
    this.#tables.set(name, register);
    return name;
  }

  /** Registers one file as a table. `data` is a `Uint8Array` (copied into the engine) or a
   * `File`/`Blob` (read by range, never copied whole). The table is named after `name`
   * without its extension; `FROM 'name'` also reads the file. The format comes from the
   * extension, else from `options.format`, else from the first bytes. */
  async registerFile(name, data, options = {}) {
    const bytes = toBytes(data);
    if (!bytes && !isBlob(data)) {
      throw new QuiverError('registerFile takes a Uint8Array, ArrayBuffer, File or Blob');
    }
    const source = bytes ?? data;
    let path = name.replace(/^\/+/, '');
    if (!extensionOf(path)) path = `${path}.${options.format ?? (await sniff(source))}`;
    const table = options.table ?? tableNameOf(name);
    this.#paths.set(table, path);
    return this.#register(table, async (engine) => {
      if (bytes) engine.putBytes(path, bytes);
      else engine.putBlob(path, data);
      try {
        await engine.registerPath(table, path);
      } catch (e) {
        engine.removeFiles(path);
        throw e;
      }
    });
  }

  /** Registers the file or Delta table at an http(s) URL, read with range requests. */
  async registerUrl(name, url) {
    return this.#register(name, (engine) => engine.registerPath(name, String(url)));
  }

  /** Registers a folder (a Delta table, or partitioned files) given as a `Map` from each
   * file's path inside the folder to its `File`/`Blob` (or bytes). */
  async registerFiles(name, files) {
    const entries = files instanceof Map ? [...files] : Object.entries(files);
    this.#paths.set(name, name);
    return this.#register(name, async (engine) => {
      engine.removeFiles(name);
      for (const [path, data] of entries) {
        const target = `${name}/${String(path).replace(/^\/+/, '')}`;
        const bytes = toBytes(data);
        if (bytes) engine.putBytes(target, bytes);
        else engine.putBlob(target, data);
      }
      await engine.registerPath(name, `${name}/`);
    });
  }

  /** Drops a table and the files registered with it. */
  async unregister(name) {
    this.#tables.delete(name);
    const path = this.#paths.get(name);
    this.#paths.delete(name);
    return this.#call((engine) => {
      if (path) engine.removeFiles(path);
      return engine.unregister(name);
    });
  }

  /** Runs SQL and returns the last statement's rows as Arrow IPC stream bytes. */
  async query(sql) {
    return this.#call((engine) => engine.query(sql));
  }

  /** Runs SQL and yields each record batch as Arrow IPC stream bytes, as the engine
   * produces them. */
  async *queryIpcStream(sql) {
    const stream = await this.#call((engine) => engine.queryStream(sql));
    try {
      for (;;) {
        const bytes = await this.#call(() => stream.next());
        if (!bytes) return;
        yield bytes;
      }
    } finally {
      try {
        stream.free();
      } catch {
        // already gone with a crashed instance
      }
    }
  }

  /** The registered tables. */
  async tables() {
    return this.#call((engine) => engine.tables());
  }

  /** A table's columns: `[{ name, type, nullable }]`. */
  async schema(name) {
    return JSON.parse(await this.#call((engine) => engine.schema(name)));
  }

  /** The query plan of `sql`, as text. */
  async explain(sql) {
    return this.#call((engine) => engine.explain(sql));
  }

  /** Re-encodes a result (Arrow IPC bytes from `query`) as `format`: csv, json, ndjson,
   * parquet or arrow. `options.rows` (row indices) picks and orders the rows, for
   * exporting a result as it is shown (filtered or sorted). */
  async convert(ipc, format, options = {}) {
    const rows = options.rows ? Uint32Array.from(options.rows) : undefined;
    return this.#call((engine) => engine.convert(toBytes(ipc), format, rows));
  }

  /** Stops the running query at its next batch; it rejects with "query cancelled". */
  cancel() {
    this.#engine?.cancel();
  }

  /** Bytes of WebAssembly memory this instance holds. */
  memoryBytes() {
    return this.#exports.memory.buffer.byteLength;
  }

  /** The engine's version. */
  get version() {
    return this.#glue.Engine.version();
  }
}

