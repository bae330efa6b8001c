// SQL text helpers: the explorer's one tokenizer (for highlighting and for finding the
// tables a query reads), table names from file names, quoting, and rewriting a query to read
// a Delta table at an earlier version.

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

// The tokens of SQL text, in order, covering all of it: `{ kind, text, start }` with kind
// `space`, `comment` (`--` to the line's end, or a block comment; block comments nest),
// `string` ('...', with '' inside), `quoted` ("name" or `name`), `number`, `word` or
// `punct` (one character). An unterminated string, name or comment runs to the end. The
// editor highlights these and references to tables are found in them, so text inside
// strings and comments is never taken for SQL (tests/sql_cases.json holds the cutting of
// statements to the engine's).

export function tokens(sql) {
  const out = [];
  let at = 0;
  const push = (kind, end) => {
    out.push({ kind, text: sql.slice(at, end), start: at });
    at = end;
  };
  while (at < sql.length) {
    const c = sql[at];
    const rest = sql.slice(at, at + 2);
    if (/\s/.test(c)) push('space', spanOf(/\s+/y, sql, at));
    else if (rest === '--') push('comment', endOfLine(sql, at));
    else if (rest === '/*') push('comment', endOfBlock(sql, at));
    else if (c === "'") push('string', endOfQuote(sql, at, "'"));
    else if (c === '"' || c === '`') push('quoted', endOfQuote(sql, at, c));
    else if (/[0-9]/.test(c)) push('number', spanOf(/\d+(?:\.\d+)?(?:e[+-]?\d+)?/iy, sql, at));
    else if (/[A-Za-z_]/.test(c)) push('word', spanOf(/[A-Za-z_][A-Za-z0-9_$]*/y, sql, at));
    else push('punct', at + 1);
  }
  return out;
}

function spanOf(pattern, sql, at) {
  pattern.lastIndex = at;
  pattern.test(sql);
  return pattern.lastIndex;
}

function endOfLine(sql, at) {
  const end = sql.indexOf('\n', at);
  return end < 0 ? sql.length : end;
}

/** The end of a block comment; block comments nest, as the engine reads them. */
function endOfBlock(sql, at) {
  let depth = 0;
  let i = at;
  while (i < sql.length) {
    const two = sql.slice(i, i + 2);
    if (two === '/*') {
      depth += 1;
      i += 2;
    } else if (two === '*/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

/** The end of a string or quoted name; a doubled quote character stays inside. */
function endOfQuote(sql, at, quote) {
  let i = at + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] !== quote) return i + 1;
      i += 2;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

/** A quoted name's name: without its quotes, doubled quotes single. */
export function unquote(text) {
  const quote = text[0];
  const inner = text.endsWith(quote) && text.length > 1 ? text.slice(1, -1) : text.slice(1);
  return inner.replaceAll(quote + quote, quote);
}

/** Whether token `t` names table `name`: a bare word as SQL folds it (lower case), or a
 * double-quoted name exactly. */
function names(t, name) {
  if (t.kind === 'word') return t.text.toLowerCase() === name;
  return t.kind === 'quoted' && t.text[0] === '"' && unquote(t.text) === name;
}

const isWord = (t, word) => t?.kind === 'word' && t.text.toUpperCase() === word;

/** Where `sql` reads table `name` after FROM or JOIN: `{ start, named, end, version }` for
 * each, `named` past the name, `end` past its `VERSION AS OF n` if it has one (then
 * `version` is n, else null). */
function references(sql, name) {
  const code = tokens(sql).filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  const out = [];
  for (let i = 1; i < code.length; i += 1) {
    const t = code[i];
    // `FROM name.other` reads another table, in a schema called name.
    if (!(isWord(code[i - 1], 'FROM') || isWord(code[i - 1], 'JOIN')) || !names(t, name)) continue;
    if (code[i + 1]?.text === '.') continue;
    const [v, a, o, n] = code.slice(i + 1, i + 5);
    const versioned = isWord(v, 'VERSION') && isWord(a, 'AS') && isWord(o, 'OF') && n?.kind === 'number';
    const named = t.start + t.text.length;
    out.push({
      start: t.start,
      named,
      end: versioned ? n.start + n.text.length : named,
      version: versioned ? Number(n.text) : null,
    });
  }
  return out;
}

/** Whether `sql` reads table `name` (after FROM or JOIN). */
export function readsTable(sql, name) {
  return references(sql, name).length > 0;
}

/** The version `sql` reads `name` at (`VERSION AS OF n`), or null for the newest. */
export function versionRead(sql, name) {
  return references(sql, name).find((r) => r.version !== null)?.version ?? null;
}

/** `sql` reading table `name` at `version` (null: the newest) wherever it names it. */
export function atVersion(sql, name, version) {
  const clause = version === null ? '' : ` VERSION AS OF ${version}`;
  let out = '';
  let at = 0;
  for (const r of references(sql, name)) {
    out += `${sql.slice(at, r.named)}${clause}`;
    at = r.end;
  }
  return out + sql.slice(at);
}
