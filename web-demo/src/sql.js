// SQL text helpers: table names from file names, quoting, and rewriting a query to read a
// Delta table at an earlier version.

/** A table name for a file or folder name: its base name without the extension, lower
 * case, with other characters as `_`, so it needs no quotes in SQL. */
export function tableNameFor(fileName) {
  const base = fileName.split('/').filter(Boolean).pop() ?? fileName;
  const stem = base.replace(/\.(parquet|csv|tsv|json|ndjson|jsonl|arrow|arrows|ipc|feather)$/i, '');
  let name = stem.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (!name) name = 'data';
  if (/^\d/.test(name)) name = `t_${name}`;
  return name;
}

/** `name`, or `name_2`, `name_3`... whichever is not in `taken`. */
export function uniqueName(name, taken) {
  if (!taken.has(name)) return name;
  let i = 2;
  while (taken.has(`${name}_${i}`)) i += 1;
  return `${name}_${i}`;
}

/** An identifier as SQL: bare when it is plain lower case, else double-quoted. */
export function quoteIdent(name) {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The pattern of `name` read after FROM or JOIN, with its `VERSION AS OF n` if any. */
function referencePattern(name) {
  const bare = escapeRegExp(name);
  const quoted = escapeRegExp(`"${name.replace(/"/g, '""')}"`);
  return new RegExp(`(\\b(?:FROM|JOIN)\\s+)(${quoted}|${bare}(?![\\w."]))(\\s+VERSION\\s+AS\\s+OF\\s+\\d+)?`, 'gi');
}

/** Whether `sql` reads table `name` (after FROM or JOIN). */
export function readsTable(sql, name) {
  return referencePattern(name).test(sql);
}

/** The version `sql` reads `name` at (`VERSION AS OF n`), or null for the newest. */
export function versionRead(sql, name) {
  for (const match of sql.matchAll(referencePattern(name))) {
    if (match[3]) return Number(/\d+/.exec(match[3])[0]);
  }
  return null;
}

/** `sql` reading table `name` at `version` (null: the newest) wherever it names it. */
export function atVersion(sql, name, version) {
  const clause = version === null ? '' : ` VERSION AS OF ${version}`;
  return sql.replace(referencePattern(name), (_, lead, ref) => `${lead}${ref}${clause}`);
}
