import type { RecordBatch, Table } from 'apache-arrow';

/** Options for a new instance. */
export interface QuiverOptions {
  /** Bytes that queries may hold at once; beyond it they fail with a clear error. */
  memoryLimit?: number;
  /** Rows per record batch (default 8192). */
  batchSize?: number;
  /** Node only: read absolute paths in SQL from the local disk (default true). */
  localFiles?: boolean;
}

/** Options for registerFile. */
export interface RegisterFileOptions {
  /** The format, when the name has no extension: parquet, csv, json, ndjson, arrow. */
  format?: string;
  /** The table name (default: the file name without its extension). */
  table?: string;
}

/** A column of a table. */
export interface Column {
  name: string;
  type: string;
  nullable: boolean;
}

/** What a file can be given as. */
export type FileData = Uint8Array | ArrayBuffer | Blob | File;

/** An error from the engine: bad SQL, a missing table, a corrupt file, a write. */
export class QuiverError extends Error {}

interface QuiverApi {
  /** Registers one file; returns the table name. */
  registerFile(name: string, data: FileData, options?: RegisterFileOptions): Promise<string>;
  /** Registers a file or Delta table at an http(s) URL, read with range requests. */
  registerUrl(name: string, url: string | URL): Promise<string>;
  /** Registers a folder (a Delta table, or partitioned files) from its files by path. */
  registerFiles(name: string, files: Map<string, FileData> | Record<string, FileData>): Promise<string>;
  /** Drops a table; true if it existed. */
  unregister(name: string): Promise<boolean>;
  /** Runs SQL; the last statement's rows as Arrow IPC stream bytes. */
  query(sql: string): Promise<Uint8Array>;
  /** Runs SQL; the rows as an apache-arrow Table. */
  queryTable(sql: string): Promise<Table>;
  /** Runs SQL; the rows as plain objects. */
  queryRows(sql: string): Promise<Record<string, unknown>[]>;
  /** Runs SQL; the record batches as they come. */
  queryStream(sql: string): AsyncGenerator<RecordBatch>;
  /** The registered tables. */
  tables(): Promise<string[]>;
  /** A table's columns. */
  schema(name: string): Promise<Column[]>;
  /** The query plan, as text. */
  explain(sql: string): Promise<string>;
  /** Re-encodes a result (Arrow IPC bytes from `query`) as csv, json, ndjson, parquet or
   * arrow; `rows` picks and orders rows (to export a result as it is shown). */
  convert(
    ipc: Uint8Array,
    format: 'csv' | 'json' | 'ndjson' | 'parquet' | 'arrow',
    options?: { rows?: ArrayLike<number> },
  ): Promise<Uint8Array>;
  /** The engine's version. */
  readonly version: string;
}

/** The engine on the calling thread. */
export interface Quiver extends QuiverApi {}
export class Quiver {
  static create(options?: QuiverOptions): Promise<Quiver>;
  /** Runs SQL; each record batch as Arrow IPC stream bytes, as it comes. */
  queryIpcStream(sql: string): AsyncGenerator<Uint8Array>;
  /** Stops the running query at its next batch. */
  cancel(): void;
  /** Bytes of WebAssembly memory this instance holds. */
  memoryBytes(): number;
}

/** The same API with the engine in a Web Worker (browsers). */
export interface AsyncQuiver extends QuiverApi {}
export class AsyncQuiver {
  static create(options?: QuiverOptions): Promise<AsyncQuiver>;
  /** Stops whatever runs now; pending calls reject with "query cancelled". */
  cancel(): Promise<void>;
  /** Ends the worker. */
  terminate(): void;
}
