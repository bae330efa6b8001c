// One planner, proven: the project's .slt files (tests/slt) run through the wasm build in
// Node, and every answer must equal the one the files hold, which the native build gives
// (tests/integration/slt.rs runs the same files natively). Writes are native-only: the wasm build must
// refuse each one, and the native CLI then performs it so later reads find its files.
// Answers become sqllogictest text here (slt_format.mjs), from the Arrow results the package
// returns to any user; the first test holds that text to DataFusion's runner.

import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { install, root, testdata } from './setup.mjs';
import { sltText } from './slt_format.mjs';

const data = testdata();
const targetDir = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME, '.cache/quiver/target');
const nativeCli = process.env.QUIVER_NATIVE ?? join(targetDir, 'debug/quiver');

/** The records of an .slt file: statements and queries with what they expect. */
export function parseSlt(text) {
  const lines = text.split('\n');
  const records = [];
  let i = 0;
  const block = () => {
    const out = [];
    while (i < lines.length && lines[i].trim() !== '' && lines[i] !== '----') out.push(lines[i++]);
    return out;
  };
  while (i < lines.length) {
    const line = lines[i];
    const at = i + 1;
    if (line.trim() === '' || line.startsWith('#') || line.startsWith('control ')) {
      i += 1;
      continue;
    }
    const words = line.trim().split(/\s+/);
    i += 1;
    if (words[0] === 'statement') {
      const sql = block().join('\n');
      records.push({ kind: 'statement', ok: words[1] === 'ok', error: words.slice(2).join(' '), sql, at });
    } else if (words[0] === 'query') {
      const sql = block().join('\n');
      const expected = [];
      if (lines[i] === '----') {
        i += 1;
        while (i < lines.length && lines[i].trim() !== '') expected.push(lines[i++]);
      }
      records.push({ kind: 'query', types: words[1], sort: words[2] ?? 'nosort', sql, expected, at });
    } else {
      throw new Error(`line ${at}: unknown record "${line}"`);
    }
  }
  return records;
}

const WRITE = /^\s*(COPY|INSERT|UPDATE|DELETE|MERGE|CREATE\s+(OR\s+REPLACE\s+)?TABLE|OPTIMIZE|VACUUM|CHECKPOINT|RESTORE)\b/i;

const files = readdirSync(join(root, 'tests/slt')).filter((f) => f.endsWith('.slt'));

// tests/integration/wasm_slt_format.rs keeps each case's text equal to what DataFusion's runner writes
// natively; here the wasm build's result, written by slt_format.mjs, must equal it too.
test('sqllogictest text of the wasm results equals DataFusion runner text', async () => {
  const { quiver, arrow } = await install();
  const q = await quiver.Quiver.create();
  const cases = JSON.parse(readFileSync(join(root, 'wasm/tests/slt_format_cases.json'), 'utf8'));
  const failures = [];
  for (const { sql, types, rows } of cases) {
    let got;
    try {
      got = sltText(await q.queryTable(sql), arrow);
    } catch (e) {
      failures.push(`${sql}\n  ${e.message}`);
      continue;
    }
    const want = JSON.stringify({ types, rows });
    if (JSON.stringify(got) !== want) failures.push(`${sql}\n  wasm: ${JSON.stringify(got)}\n  runner: ${want}`);
  }
  if (cases.length < 10) failures.push(`only ${cases.length} cases in slt_format_cases.json`);
  if (failures.length) throw new Error(`${failures.length} cases differ:\n${failures.join('\n')}`);
});

for (const file of files) {
  test(`slt through wasm: ${file}`, { skip: !data && 'no testdata' }, async () => {
    if (!existsSync(nativeCli)) throw new Error(`no native CLI at ${nativeCli} (cargo build -p quiver)`);
    const { quiver, arrow } = await install();
    const q = await quiver.Quiver.create();
    const dir = mkdtempSync(join(tmpdir(), 'quiver-slt-'));
    const subst = (sql) => sql.replaceAll('$TESTDATA', data).replaceAll('$__TEST_DIR__', dir);
    const records = parseSlt(readFileSync(join(root, 'tests/slt', file), 'utf8'));
    const setup = [];
    const failures = [];
    let compared = 0;
    let writes = 0;
    for (const record of records) {
      const sql = subst(record.sql);
      const where = `${file}:${record.at}`;
      if (WRITE.test(sql)) {
        try {
          await q.query(sql);
          failures.push(`${where}: the wasm build wrote (${sql.split('\n')[0]})`);
        } catch (e) {
          // A write the file expects to fail for its text (a syntax error) fails the same
          // way here: the SQL front end parses before the read-only rule looks at it.
          const expected = record.kind === 'statement' && !record.ok && new RegExp(record.error).test(e.message);
          if (!expected && !/native-only/.test(e.message)) failures.push(`${where}: ${e.message}`);
        }
        // What a write prints, and a write that must fail, are checked by the native run
        // of the same file (tests/integration/slt.rs).
        if (record.kind === 'query' || record.ok) {
          execFileSync(nativeCli, ['-c', [...setup, sql].join(';\n')], { stdio: 'pipe' });
          writes += 1;
        }
        continue;
      }
      if (record.kind === 'statement') {
        try {
          await q.query(sql);
          if (!record.ok) failures.push(`${where}: expected an error matching "${record.error}"`);
          else if (/^\s*CREATE\s/i.test(sql)) setup.push(sql);
        } catch (e) {
          if (record.ok) failures.push(`${where}: ${e.message}`);
          else if (!new RegExp(record.error).test(e.message)) {
            failures.push(`${where}: error "${e.message}" does not match "${record.error}"`);
          }
        }
        compared += 1;
        continue;
      }
      let got;
      try {
        got = sltText(await q.queryTable(sql), arrow);
      } catch (e) {
        failures.push(`${where}: ${e.message}`);
        continue;
      }
      let actual = got.rows.map((r) => r.join(' ').trimEnd());
      let expected = record.expected.map((l) => l.trimEnd());
      if (record.sort === 'rowsort') {
        actual = [...actual].sort();
        expected = [...expected].sort();
      }
      if (got.types !== record.types) failures.push(`${where}: types ${got.types}, the file says ${record.types}`);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        failures.push(`${where}:\n  wasm:   ${actual.join(' | ')}\n  native: ${expected.join(' | ')}`);
      }
      compared += 1;
    }
    console.log(`${file}: ${compared} records agree or fail as listed, ${writes} writes done natively`);
    if (failures.length) throw new Error(`${failures.length} disagreements:\n${failures.join('\n')}`);
  });
}
