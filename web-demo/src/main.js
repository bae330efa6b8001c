// Quiver Explorer: the page's wiring. The engine runs in a Web Worker (AsyncQuiver from the
// quiver-wasm package), so the page stays responsive during a long query and can cancel it.

import { tableFromIPC } from 'apache-arrow';
import { AsyncQuiver } from 'quiver-wasm';

import { columnsOf, draw, suggest } from './chart.js';
import { Editor } from './editor.js';
import { Grid } from './grid.js';
import { MARKET, SAMPLE, groupDropped, groupPicked } from './sources.js';
import { atVersion, quoteIdent, readsTable, tableNameFor, uniqueName, versionRead } from './sql.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const HISTORY_KEY = 'quiver-explorer.history';
const HISTORY_SIZE = 50;
const PLAN_HINT = document.querySelector('[data-testid="plan"]').textContent;

const state = {
  quiver: null,
  /** name -> { name, source, columns, rows, delta: { version, first, history } | null } */
  tables: new Map(),
  /** the shown result: { ipc, table, sql, ms } */
  result: null,
  running: false,
  cancelled: false,
  tab: 'grid',
  chart: null,
};

const editor = new Editor($('editor'), {
  onRun: () => run(),
  names: () => ({
    tables: [...state.tables.keys()],
    columns: [...new Set([...state.tables.values()].flatMap((t) => (t.columns ?? []).map((c) => c.name)))],
  }),
});
const grid = new Grid($('result-grid'), { onCopy: (text) => notice(`Copied “${text.length > 40 ? `${text.slice(0, 39)}…` : text}”`) });

// ---- messages ----

function showError(message) {
  const box = $('error-message');
  box.textContent = message;
  box.hidden = false;
}

function clearError() {
  $('error-message').hidden = true;
  $('error-message').textContent = '';
}

let noticeTimer;
function notice(text) {
  $('notice').textContent = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    $('notice').textContent = '';
  }, 4000);
}

/** Runs `work` with the progress indicator and the Cancel button shown. */
async function busy(label, work) {
  const progress = $('progress');
  const elapsed = progress.querySelector('.elapsed');
  const start = performance.now();
  const tick = () => {
    elapsed.textContent = `${label} ${((performance.now() - start) / 1000).toFixed(1)} s`;
  };
  tick();
  const timer = setInterval(tick, 100);
  progress.hidden = false;
  $('cancel-query').hidden = false;
  $('run-query').disabled = true;
  document.body.dataset.busy = 'true';
  try {
    return await work();
  } finally {
    clearInterval(timer);
    progress.hidden = true;
    $('cancel-query').hidden = true;
    $('run-query').disabled = false;
    delete document.body.dataset.busy;
  }
}

function isCancel(error) {
  return state.cancelled || /query cancelled/.test(error?.message ?? '');
}

// ---- tables ----

function extensionOf(fileName) {
  return /\.[A-Za-z0-9]+$/.exec(fileName)?.[0]?.toLowerCase() ?? '';
}

/** Registers a source under `name` (files, folders, URLs and the sample all come here). */
async function register(name, source) {
  const q = state.quiver;
  switch (source.type) {
    case 'file':
      return q.registerFile(`${name}${extensionOf(source.file.name)}`, source.file, { table: name });
    case 'bytes':
      return q.registerFile(`${name}.parquet`, source.bytes, { table: name });
    case 'folder':
      return q.registerFiles(name, source.files);
    case 'url':
      return q.registerUrl(name, source.url);
    default:
      throw new Error(`unknown source ${source.type}`);
  }
}

/** Adds a table from `source`, named after `label` (a file, folder or URL name). */
async function addTable(label, source) {
  const name = uniqueName(tableNameFor(label), new Set(state.tables.keys()));
  try {
    await busy(`Loading ${label}…`, async () => {
      await register(name, source);
      state.tables.set(name, { name, label, source, columns: null, rows: null, delta: null });
      renderTables();
      await describe(name);
    });
    return name;
  } catch (e) {
    if (isCancel(e)) notice(`Loading ${label} was cancelled`);
    else showError(`Could not load ${label}: ${e.message}`);
    state.tables.delete(name);
    state.cancelled = false;
    renderTables();
    return null;
  }
}

/** Fills in a table's columns, row count, and for a Delta table its version and history. */
async function describe(name) {
  const entry = state.tables.get(name);
  const q = state.quiver;
  entry.columns = await q.schema(name);
  renderTables();
  const [count] = await q.queryRows(`SELECT count(*) AS n FROM ${quoteIdent(name)}`);
  entry.rows = Number(count.n);
  const mayBeDelta =
    (entry.source.type === 'folder' && [...entry.source.files.keys()].some((p) => p.startsWith('_delta_log/'))) ||
    entry.source.type === 'url';
  if (mayBeDelta) {
    try {
      const history = await q.queryRows(
        `SELECT version, timestamp, operation FROM delta_history(${quoteIdent(name)}) ORDER BY version`,
      );
      const versions = history.map((h) => Number(h.version));
      entry.delta = {
        version: Math.max(...versions),
        first: Math.min(...versions),
        history: history.map((h) => ({ version: Number(h.version), time: h.timestamp, operation: h.operation ?? '' })),
      };
    } catch {
      entry.delta = null; // not a Delta table (a folder of partitioned files)
    }
  }
  renderTables();
  updateTimeTravel();
}

async function removeTable(name) {
  await state.quiver.unregister(name);
  state.tables.delete(name);
  renderTables();
  editor.refresh();
  updateTimeTravel();
}

async function renameTable(oldName, wanted) {
  const entry = state.tables.get(oldName);
  const others = new Set([...state.tables.keys()].filter((n) => n !== oldName));
  const name = tableNameFor(wanted);
  if (!entry || name === oldName) return;
  if (others.has(name)) {
    showError(`There is already a table named ${name}`);
    return;
  }
  try {
    await state.quiver.unregister(oldName);
    await register(name, entry.source);
    state.tables.delete(oldName);
    state.tables.set(name, { ...entry, name });
    editor.value = editor.value.replace(new RegExp(`\\b${oldName}\\b`, 'g'), name);
  } catch (e) {
    showError(`Could not rename ${oldName}: ${e.message}`);
    await register(oldName, entry.source).catch(() => {});
  }
  renderTables();
  updateTimeTravel();
}

function formatTime(value) {
  if (value === null || value === undefined) return '';
  return new Date(Number(value)).toISOString().replace('T', ' ').slice(0, 19);
}

/** What kind of table it is, for the panel: a Delta version, a folder, a file format, a view. */
function kindLabel(t) {
  if (t.delta) return `Delta v${t.delta.version}`;
  switch (t.source.type) {
    case 'folder':
      return 'folder';
    case 'file':
      return extensionOf(t.source.file.name).slice(1) || 'file';
    case 'url':
      return extensionOf(new URL(t.source.url).pathname).slice(1) || 'url';
    case 'bytes':
      return 'parquet';
    default:
      return 'view';
  }
}

function renderTables() {
  const list = $('table-list');
  const items = [...state.tables.values()].map((t) => {
    const li = document.createElement('li');
    li.className = 'table-item';
    li.dataset.table = t.name;
    const head = document.createElement('div');
    head.className = 'table-head';
    const name = document.createElement('button');
    name.type = 'button';
    name.className = 'table-name';
    name.textContent = t.name;
    name.title = `Query ${t.name}`;
    name.addEventListener('click', () => {
      editor.value = `SELECT * FROM ${quoteIdent(t.name)} LIMIT 1000`;
      run();
    });
    const meta = document.createElement('span');
    meta.className = 'table-meta';
    const kind = kindLabel(t);
    // A view's rows are counted only when queried; a loading table shows … until counted.
    const rows = t.rows !== null ? `${t.rows.toLocaleString()} rows` : t.source.type === 'sql' ? '' : '…';
    meta.textContent = [kind, rows].filter(Boolean).join(' · ');
    const remove = iconButton('×', `Remove ${t.name}`, 'remove-table', () => removeTable(t.name));
    // A table made by SQL (a view) has no source to register under another name.
    if (t.source.type === 'sql') head.append(name, remove);
    else head.append(name, iconButton('✎', `Rename ${t.name}`, 'rename-table', () => startRename(li, t.name)), remove);
    li.append(head, meta);
    const details = document.createElement('details');
    details.open = true;
    const summary = document.createElement('summary');
    summary.textContent = t.columns ? `${t.columns.length} columns` : 'columns…';
    details.append(summary);
    const cols = document.createElement('ul');
    cols.className = 'columns';
    for (const c of t.columns ?? []) {
      const item = document.createElement('li');
      item.innerHTML = `<span class="col-name"></span><span class="col-type"></span>`;
      item.firstChild.textContent = c.name;
      item.lastChild.textContent = c.type;
      item.title = `${c.name}: ${c.type}${c.nullable ? '' : ' (not null)'} — click to insert`;
      item.addEventListener('click', () => insertText(quoteIdent(c.name)));
      cols.append(item);
    }
    details.append(cols);
    li.append(details);
    if (t.delta) li.append(historyList(t));
    return li;
  });
  list.replaceChildren(...items);
  document.querySelector('.empty-tables').hidden = state.tables.size > 0;
  editor.refresh();
}

function historyList(t) {
  const details = document.createElement('details');
  details.className = 'history';
  const summary = document.createElement('summary');
  summary.textContent = `History (${t.delta.history.length} versions)`;
  details.append(summary);
  const table = document.createElement('table');
  table.dataset.testid = 'delta-history';
  table.innerHTML = '<thead><tr><th>v</th><th>time (UTC)</th><th>operation</th></tr></thead>';
  const body = document.createElement('tbody');
  for (const h of [...t.delta.history].reverse()) {
    const tr = document.createElement('tr');
    tr.title = `Read ${t.name} at version ${h.version}`;
    for (const text of [h.version, formatTime(h.time), h.operation]) {
      const td = document.createElement('td');
      td.textContent = String(text);
      tr.append(td);
    }
    tr.addEventListener('click', () => {
      const sql = readsTable(editor.value, t.name) ? editor.value : `SELECT * FROM ${quoteIdent(t.name)} LIMIT 1000`;
      editor.value = atVersion(sql, t.name, h.version === t.delta.version ? null : h.version);
      run();
    });
    body.append(tr);
  }
  table.append(body);
  details.append(table);
  return details;
}

function iconButton(text, title, testid, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'icon';
  b.textContent = text;
  b.title = title;
  b.setAttribute('aria-label', title);
  b.dataset.testid = testid;
  b.addEventListener('click', onClick);
  return b;
}

function startRename(li, oldName) {
  const input = document.createElement('input');
  input.value = oldName;
  input.className = 'rename';
  input.dataset.testid = 'rename-input';
  const head = li.querySelector('.table-head');
  head.replaceChildren(input);
  input.focus();
  input.select();
  let done = false;
  const finish = (commit) => {
    if (done) return;
    done = true;
    if (commit && input.value.trim()) renameTable(oldName, input.value.trim());
    else renderTables();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') finish(true);
    if (e.key === 'Escape') finish(false);
  });
  input.addEventListener('blur', () => finish(true));
}

function insertText(text) {
  const area = $('sql-editor');
  area.focus();
  area.setRangeText(text, area.selectionStart, area.selectionEnd, 'end');
  area.dispatchEvent(new Event('input'));
}

/** Tables created by SQL (CREATE VIEW, CREATE TABLE AS) join the list. */
async function syncTables() {
  const names = await state.quiver.tables();
  let changed = false;
  for (const name of names) {
    if (!state.tables.has(name)) {
      state.tables.set(name, { name, label: name, source: { type: 'sql' }, columns: null, rows: null, delta: null });
      changed = true;
      state.quiver.schema(name).then((columns) => {
        state.tables.get(name).columns = columns;
        renderTables();
      }).catch(() => {});
    }
  }
  for (const name of [...state.tables.keys()]) {
    if (!names.includes(name)) {
      state.tables.delete(name);
      changed = true;
    }
  }
  if (changed) renderTables();
}

// ---- queries ----

function loadHistory() {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]');
  } catch {
    return [];
  }
}

function remember(sql) {
  const history = [sql, ...loadHistory().filter((q) => q !== sql)].slice(0, HISTORY_SIZE);
  localStorage.setItem(HISTORY_KEY, JSON.stringify(history));
  renderHistory();
}

function renderHistory() {
  const select = $('query-history');
  const options = loadHistory().map((sql) => {
    const o = document.createElement('option');
    o.value = sql;
    o.textContent = sql.replace(/\s+/g, ' ').slice(0, 80);
    return o;
  });
  const first = document.createElement('option');
  first.value = '';
  first.textContent = `History (${options.length})…`;
  select.replaceChildren(first, ...options);
}

async function run(sql = editor.value) {
  if (state.running || !state.quiver) return;
  if (!sql.trim()) return;
  clearError();
  state.running = true;
  state.cancelled = false;
  const start = performance.now();
  try {
    const ipc = await busy('Running…', () => state.quiver.query(sql));
    const ms = performance.now() - start;
    const table = tableFromIPC(ipc);
    state.result = { ipc, table, sql, ms };
    grid.show(table);
    const rows = table.numRows;
    $('result-rowcount').textContent = `${rows.toLocaleString('en-US')} ${rows === 1 ? 'row' : 'rows'} · ${formatMs(ms)}`;
    $('result-rowcount').dataset.rows = String(rows);
    for (const b of ['export-csv', 'export-parquet', 'export-arrow']) $(b).disabled = false;
    state.chart = suggest(table);
    renderChartControls();
    if (state.tab === 'chart') renderChart();
    if (state.tab === 'plan') explain(sql);
    remember(sql);
    document.body.dataset.ran = String(Number(document.body.dataset.ran ?? 0) + 1);
  } catch (e) {
    if (isCancel(e)) notice('Query cancelled');
    else {
      // The result of an earlier query under this error would read as this query's.
      clearResult();
      showError(e.message);
    }
  } finally {
    state.running = false;
    state.cancelled = false;
  }
  updateTimeTravel();
  syncTables().catch(() => {});
}

/** Empties the grid, the row count, the chart and the plan, and disables export. */
function clearResult() {
  state.result = null;
  state.chart = null;
  grid.show(null);
  $('result-rowcount').textContent = '';
  delete $('result-rowcount').dataset.rows;
  for (const b of ['export-csv', 'export-parquet', 'export-arrow']) $(b).disabled = true;
  renderChartControls();
  renderChart();
  $('plan').textContent = PLAN_HINT;
}

function formatMs(ms) {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

async function cancel() {
  state.cancelled = true;
  await state.quiver.cancel();
}

async function explain(sql = editor.value) {
  clearError();
  try {
    $('plan').textContent = await state.quiver.explain(sql);
  } catch (e) {
    if (!isCancel(e)) showError(e.message);
  }
}

// ---- results: tabs, chart, export ----

function showTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll('.tab')) b.classList.toggle('active', b.dataset.tab === tab);
  for (const v of document.querySelectorAll('.view')) v.hidden = v.dataset.view !== tab;
  if (tab === 'chart') renderChart();
  if (tab === 'plan') explain();
}

function renderChartControls() {
  const table = state.result?.table;
  const spec = state.chart;
  const cols = table ? columnsOf(table) : [];
  const options = (select, list, selected) => {
    select.replaceChildren(
      ...list.map(({ index, name }) => {
        const o = document.createElement('option');
        o.value = String(index);
        o.textContent = name;
        o.selected = index === selected;
        return o;
      }),
    );
  };
  options($('chart-x'), [{ index: -1, name: '(row number)' }, ...cols], spec?.x ?? -1);
  options($('chart-y'), cols.filter((c) => c.kind === 'number'), spec?.y ?? -1);
  $('chart-type').value = spec?.type ?? 'bar';
}

function renderChart() {
  const host = $('chart');
  if (!state.result) {
    host.replaceChildren();
    $('chart-caption').textContent = 'Run a query to chart its result.';
    return;
  }
  const width = Math.max(320, host.clientWidth || 800);
  $('chart-caption').textContent = draw(host, state.result.table, state.chart, width);
}

function chartChanged() {
  state.chart = {
    type: $('chart-type').value,
    x: Number($('chart-x').value),
    y: $('chart-y').value === '' ? -1 : Number($('chart-y').value),
  };
  renderChart();
}

function download(bytes, fileName, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function exportResult(format) {
  if (!state.result) return;
  const types = { csv: 'text/csv', parquet: 'application/vnd.apache.parquet', arrow: 'application/vnd.apache.arrow.stream' };
  try {
    const order = grid.order;
    const bytes = await state.quiver.convert(state.result.ipc, format, order ? { rows: order } : {});
    download(bytes, `result.${format}`, types[format]);
    notice(`Exported ${state.result.table.numRows.toLocaleString()} rows as ${format.toUpperCase()}`);
  } catch (e) {
    showError(`Export failed: ${e.message}`);
  }
}

// ---- Delta time travel ----

/** The Delta table the editor's query reads, if any. */
function deltaInQuery() {
  return [...state.tables.values()].find((t) => t.delta && readsTable(editor.value, t.name)) ?? null;
}

function updateTimeTravel() {
  const t = deltaInQuery();
  const bar = $('time-travel');
  // A table with one version has nowhere to travel.
  bar.hidden = !t || t.delta.first === t.delta.version;
  if (bar.hidden) return;
  const slider = $('delta-version');
  slider.min = String(t.delta.first);
  slider.max = String(t.delta.version);
  slider.value = String(versionRead(editor.value, t.name) ?? t.delta.version);
  bar.querySelector('.tt-table').textContent = t.name;
  versionLabel(t, Number(slider.value));
}

function versionLabel(t, version) {
  const h = t.delta.history.find((x) => x.version === version);
  const newest = version === t.delta.version ? ' (newest)' : '';
  $('delta-version-label').textContent = `${version} of ${t.delta.first}–${t.delta.version}${newest}${h ? ` · ${formatTime(h.time)} · ${h.operation}` : ''}`;
}

function travel(version) {
  const t = deltaInQuery();
  if (!t) return;
  editor.value = atVersion(editor.value, t.name, version === t.delta.version ? null : version);
  run();
}

// ---- getting data in ----

/** What the user handed over while the engine was starting ({ label, work }), run in the
 * order it came once the engine has started: a file picked at once must not be lost. */
const waiting = [];

/** Runs `work` now if the engine has started, else queues it; `label` names what waits. */
function whenStarted(label, work) {
  if (state.quiver) return work();
  waiting.push({ label, work });
  $('engine-status').textContent = `Starting the engine… then loading ${waiting.map((w) => w.label).join(', ')}`;
  return undefined;
}

/** The names of picked or dropped files and folders, for messages. */
function labelOf({ files, folders }) {
  return [...folders.keys(), ...files.map((f) => f.name)].join(', ');
}

async function addGroups({ files, folders }) {
  let last = null;
  for (const [folder, files_] of folders) last = (await addTable(folder, { type: 'folder', files: files_ })) ?? last;
  for (const file of files) last = (await addTable(file.name, { type: 'file', file })) ?? last;
  if (last) {
    editor.value = `SELECT * FROM ${quoteIdent(last)} LIMIT 1000`;
    await run();
  }
}

/** Makes a sample's tables (each by SQL, kept as Parquet), then runs its query with the names
 * the tables got. */
async function loadSample(sample) {
  const names = new Map();
  try {
    for (const { name, sql } of sample.tables) {
      if (state.tables.has(name)) {
        names.set(name, name);
        continue;
      }
      const bytes = await busy('Making the sample…', async () => {
        const ipc = await state.quiver.query(sql);
        return state.quiver.convert(ipc, 'parquet');
      });
      const got = await addTable(`${name}.parquet`, { type: 'bytes', bytes });
      if (!got) return;
      names.set(name, got);
    }
    let query = sample.query;
    for (const [name, got] of names) query = query.replace(new RegExp(`\\b${name}\\b`, 'g'), quoteIdent(got));
    editor.value = query;
    await run();
  } catch (e) {
    showError(`Could not make the sample: ${e.message}`);
  }
}

function nameFromUrl(url) {
  const path = new URL(url).pathname.replace(/\/+$/, '');
  return decodeURIComponent(path.split('/').pop() || 'remote');
}

function loadUrl(text) {
  let url;
  try {
    url = new URL(text.trim(), location.href);
  } catch {
    showError(`Not a URL: ${text}`);
    return;
  }
  clearError();
  whenStarted(nameFromUrl(url.href), async () => {
    const name = await addTable(nameFromUrl(url.href), { type: 'url', url: url.href });
    if (name) {
      editor.value = `SELECT * FROM ${quoteIdent(name)} LIMIT 1000`;
      await run();
    }
  });
}

/** Files or folders picked or dropped: tables once the engine has started. */
function addPicked(groups) {
  if (groups.files.length === 0 && groups.folders.size === 0) return;
  whenStarted(labelOf(groups), () => addGroups(groups));
}

function wireDrops() {
  const overlay = $('drop-overlay');
  let depth = 0;
  window.addEventListener('dragenter', (e) => {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    depth += 1;
    overlay.hidden = false;
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', async (e) => {
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    clearError();
    addPicked(await groupDropped(e.dataTransfer));
  });
}

// ---- start ----

function wire() {
  $('run-query').addEventListener('click', () => run());
  $('cancel-query').addEventListener('click', () => cancel());
  $('explain-query').addEventListener('click', () => showTab('plan'));
  $('query-history').addEventListener('change', (e) => {
    if (e.target.value) editor.value = e.target.value;
    e.target.value = '';
    updateTimeTravel();
    editor.focus();
  });
  for (const input of ['file-input', 'folder-input']) {
    $(input).addEventListener('change', (e) => {
      clearError();
      const picked = groupPicked(e.target.files);
      e.target.value = '';
      addPicked(picked);
    });
  }
  $('url-form').addEventListener('submit', (e) => {
    e.preventDefault();
    loadUrl($('url-input').value);
  });
  $('sample-data').addEventListener('click', () => whenStarted('the sample data', () => loadSample(SAMPLE)));
  $('sample-market').addEventListener('click', () => whenStarted('the market sample', () => loadSample(MARKET)));
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => showTab(tab.dataset.tab));
  for (const id of ['chart-type', 'chart-x', 'chart-y']) $(id).addEventListener('change', chartChanged);
  $('export-csv').addEventListener('click', () => exportResult('csv'));
  $('export-parquet').addEventListener('click', () => exportResult('parquet'));
  $('export-arrow').addEventListener('click', () => exportResult('arrow'));
  const slider = $('delta-version');
  slider.addEventListener('input', () => {
    const t = deltaInQuery();
    if (t) versionLabel(t, Number(slider.value));
  });
  slider.addEventListener('change', () => travel(Number(slider.value)));
  $('delta-latest').addEventListener('click', () => {
    const t = deltaInQuery();
    if (t) travel(t.delta.version);
  });
  $('sql-editor').addEventListener('input', () => updateTimeTravel());
  new ResizeObserver(() => {
    if (state.tab === 'chart') renderChart();
  }).observe($('chart'));
  wireDrops();
  renderHistory();
}

async function start() {
  wire();
  try {
    state.quiver = await AsyncQuiver.create();
  } catch (e) {
    $('engine-status').textContent = 'The engine did not start';
    const lost = waiting.length ? ` (not loaded: ${waiting.map((w) => w.label).join(', ')})` : '';
    showError(`The engine did not start: ${e.message}${lost}`);
    return;
  }
  $('engine-status').textContent = `Quiver ${state.quiver.version} · WebAssembly in a worker`;
  document.body.dataset.ready = 'true';
  // What was handed over while starting runs its own query; else the editor's runs.
  const queued = waiting.splice(0);
  if (queued.length === 0) await run();
  for (const { work } of queued) await work();
}

start();
