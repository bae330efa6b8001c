// The explorer's SQL text helpers (src/sql.js), in Node. Its tokenizer must read strings,
// quoted names and comments as the engine does: a table name inside them is not a table the
// query reads, and the time-travel slider must never rewrite them. The statement cases in
// tests/sql_cases.json are shared with the engine's front end (engine/src/sql), so the two
// readers of SQL text cannot drift apart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { root } from '../../scripts/testdata.mjs';
import { atVersion, readsTable, tokens, versionRead } from '../src/sql.js';

/** Statements cut at semicolons outside strings, names and comments, each from its first
 * to its last token that is not space or a comment: the engine's `split_statements`. */
function split(sql) {
  const out = [];
  let current = [];
  const close = () => {
    if (current.length) {
      const last = current.at(-1);
      out.push(sql.slice(current[0].start, last.start + last.text.length));
    }
    current = [];
  };
  for (const t of tokens(sql)) {
    if (t.kind === 'space' || t.kind === 'comment') continue;
    if (t.kind === 'punct' && t.text === ';') close();
    else current.push(t);
  }
  close();
  return out;
}

/** Whether the last token that is not space or a comment is a semicolon. */
function complete(sql) {
  const last = tokens(sql).filter((t) => t.kind !== 'space' && t.kind !== 'comment').at(-1);
  return last?.kind === 'punct' && last.text === ';';
}

const shared = JSON.parse(readFileSync(join(root, 'tests/sql_cases.json'), 'utf8'));

test('the tokenizer cuts the shared statement cases as the engine does', () => {
  assert.ok(shared.split.length > 0 && shared.complete.length > 0, 'tests/sql_cases.json has cases');
  for (const { sql, statements } of shared.split) assert.deepEqual(split(sql), statements, JSON.stringify(sql));
  // "complete" is the engine's test for a statement's end at the prompt: it needs the same
  // reading of unterminated strings and comments.
  for (const c of shared.complete) assert.equal(complete(c.sql), c.complete, JSON.stringify(c.sql));
});

test('tokens cover the text: nothing is dropped or read twice', () => {
  const sql = "SELECT 'a''b' AS \"x\"\"y\", `p` /* c /* nested */ still */ -- end\n1.5e3;";
  const all = tokens(sql);
  assert.equal(all.map((t) => t.text).join(''), sql);
  assert.deepEqual(
    all.filter((t) => t.kind !== 'space').map((t) => [t.kind, t.text]),
    [
      ['word', 'SELECT'],
      ['string', "'a''b'"],
      ['word', 'AS'],
      ['quoted', '"x""y"'],
      ['punct', ','],
      ['quoted', '`p`'],
      ['comment', '/* c /* nested */ still */'],
      ['comment', '-- end'],
      ['number', '1.5e3'],
      ['punct', ';'],
    ],
  );
});

test('a table is read after FROM or JOIN, bare or quoted, not as a prefix or a schema', () => {
  assert.ok(readsTable('SELECT * FROM events', 'events'));
  assert.ok(readsTable('select * from Events e join other o on e.id = o.id', 'events'), 'bare names fold to lower case');
  assert.ok(readsTable('SELECT * FROM a JOIN events USING (id)', 'events'));
  assert.ok(readsTable('SELECT * FROM "My Table"', 'My Table'));
  assert.ok(!readsTable('SELECT * FROM "Events"', 'events'), 'a quoted name is exact');
  assert.ok(!readsTable('SELECT * FROM events_2', 'events'));
  assert.ok(!readsTable('SELECT * FROM events.part', 'events'), 'a schema of that name');
  assert.ok(!readsTable('SELECT events FROM other', 'events'));
});

test('a table named inside a string, a quoted name or a comment is not read', () => {
  for (const sql of [
    "SELECT 'FROM events' AS s FROM other",
    "SELECT 'it''s FROM events' FROM other",
    'SELECT 1 AS "from events" FROM other',
    'SELECT 1 -- FROM events\nFROM other',
    'SELECT 1 /* FROM events */ FROM other',
    'SELECT 1 /* nested /* */ FROM events */ FROM other',
  ]) {
    assert.ok(!readsTable(sql, 'events'), sql);
    assert.equal(atVersion(sql, 'events', 3), sql, `left alone: ${sql}`);
  }
  assert.ok(readsTable('SELECT 1 /* x */ FROM /* y */ events', 'events'), 'comments between the words');
});

test('VERSION AS OF is read and rewritten at the reference only', () => {
  assert.equal(versionRead('SELECT * FROM events VERSION AS OF 3', 'events'), 3);
  assert.equal(versionRead('SELECT * FROM events version as of 12 WHERE x', 'events'), 12);
  assert.equal(versionRead('SELECT * FROM events', 'events'), null);
  assert.equal(versionRead("SELECT 'FROM events VERSION AS OF 3' FROM events", 'events'), null);

  const sql = "SELECT 'FROM events' AS s, n FROM events -- FROM events VERSION AS OF 1\nWHERE n > 0";
  const at2 = atVersion(sql, 'events', 2);
  assert.equal(at2, "SELECT 'FROM events' AS s, n FROM events VERSION AS OF 2 -- FROM events VERSION AS OF 1\nWHERE n > 0");
  assert.equal(atVersion(at2, 'events', 5), at2.replace('OF 2', 'OF 5'));
  assert.equal(atVersion(at2, 'events', null), sql, 'back to the newest');
  assert.equal(
    atVersion('SELECT * FROM "Ev" a JOIN "Ev" VERSION AS OF 1 b ON a.k = b.k', 'Ev', 4),
    'SELECT * FROM "Ev" VERSION AS OF 4 a JOIN "Ev" VERSION AS OF 4 b ON a.k = b.k',
  );
});
