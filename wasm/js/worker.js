// The Web Worker behind AsyncQuiver: one Quiver instance, driven by messages
// `{ id, method, args }` and answering `{ id, result }` or `{ id, error }`.

import { QuiverCore } from './core.js';

let quiver;

const calls = {
  async create(options) {
    quiver = await QuiverCore.create(options);
    return quiver.version;
  },
  registerFile: (name, data, options) => quiver.registerFile(name, data, options),
  registerUrl: (name, url) => quiver.registerUrl(name, url),
  registerFiles: (name, files) => quiver.registerFiles(name, files),
  unregister: (name) => quiver.unregister(name),
  query: (sql) => quiver.query(sql),
  tables: () => quiver.tables(),
  schema: (name) => quiver.schema(name),
  explain: (sql) => quiver.explain(sql),
  convert: (ipc, format, options) => quiver.convert(ipc, format, options),
};

self.onmessage = async ({ data: { id, method, args } }) => {
  try {
    const call = calls[method];
    if (!call) throw new Error(`unknown call ${method}`);
    const result = await call(...args);
    // Query results move to the page without a copy.
    const transfer = result instanceof Uint8Array ? [result.buffer] : [];
    self.postMessage({ id, result }, transfer);
  } catch (e) {
    self.postMessage({ id, error: e?.message ?? String(e) });
  }
};
