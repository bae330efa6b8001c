// The result grid: an apache-arrow Table shown through a window of rows, so a million rows
// scroll as smoothly as ten. Clicking a header sorts (ascending, descending, as queried);
// clicking a cell selects it and Ctrl/Cmd+C (or a double click) copies it.

import { kindOf, numberOf, textOf } from './values.js';

const ROW_HEIGHT = 26;
const HEADER_HEIGHT = 30;
const OVERSCAN = 8;
const CHAR_WIDTH = 7.4;

export class Grid {
  #root;
  #canvas;
  #header;
  #rows;
  #table = null;
  #columns = [];
  #widths = [];
  /** view row -> result row, or null when shown as queried */
  #order = null;
  #sort = null;
  #selected = null;
  #onCopy;
  #frame = 0;

  constructor(root, { onCopy } = {}) {
    this.#root = root;
    this.#onCopy = onCopy ?? (() => {});
    root.tabIndex = 0;
    root.setAttribute('role', 'grid');
    this.#canvas = el('div', 'grid-canvas');
    this.#header = el('div', 'grid-header');
    this.#header.setAttribute('role', 'row');
    this.#rows = el('div', 'grid-rows');
    this.#canvas.append(this.#header, this.#rows);
    root.append(this.#canvas);
    root.addEventListener('scroll', () => this.#schedule());
    new ResizeObserver(() => this.#schedule()).observe(root);
    root.addEventListener('click', (event) => {
      const cell = event.target.closest('.cell[data-col]');
      if (cell && cell.dataset.row !== undefined) this.#select(Number(cell.dataset.row), Number(cell.dataset.col));
    });
    root.addEventListener('dblclick', (event) => {
      const cell = event.target.closest('.cell[data-row]');
      if (cell) this.copySelection();
    });
    root.addEventListener('keydown', (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === 'c' && this.#selected) {
        event.preventDefault();
        this.copySelection();
      }
    });
  }

  /** Shows `table` (or clears the grid with null). */
  show(table) {
    this.#table = table;
    this.#order = null;
    this.#sort = null;
    this.#selected = null;
    this.#columns = table ? table.schema.fields.map((field, i) => ({ field, vector: table.getChildAt(i) })) : [];
    this.#widths = this.#columns.map(({ field, vector }) => {
      // The header holds the name and a short type in a wider font.
      let longest = Math.ceil((field.name.length + shortType(field.type).length) * 1.15) + 3;
      const sample = Math.min(vector.length, 200);
      for (let i = 0; i < sample; i++) longest = Math.max(longest, textOf(vector.get(i), field.type).length);
      return Math.round(Math.min(360, Math.max(64, longest * CHAR_WIDTH + 20)));
    });
    this.#root.scrollTop = 0;
    this.#root.scrollLeft = 0;
    this.#renderHeader();
    this.#render();
  }

  /** Result row indices in the order shown, or null when shown as queried. */
  get order() {
    return this.#order;
  }

  get rowCount() {
    return this.#table?.numRows ?? 0;
  }

  /** The text of the cell at view row `row`, column `col`. */
  cellText(row, col) {
    const { field, vector } = this.#columns[col];
    return textOf(vector.get(this.#rowAt(row)), field.type);
  }

  /** Sorts by column `col`: ascending, then descending, then as queried. */
  sortBy(col) {
    const direction = this.#sort?.col !== col ? 'asc' : this.#sort.direction === 'asc' ? 'desc' : null;
    this.#sort = direction ? { col, direction } : null;
    this.#order = direction ? sortedOrder(this.#columns[col], direction) : null;
    this.#selected = null;
    this.#renderHeader();
    this.#render();
  }

  /** Copies the selected cell's text to the clipboard. */
  async copySelection() {
    if (!this.#selected) return;
    const text = this.cellText(this.#selected.row, this.#selected.col);
    // The clipboard API may wait on a permission prompt; give it a moment, then fall back
    // to a selected textarea and the copy command.
    const written = navigator.clipboard
      ? navigator.clipboard.writeText(text).then(() => true, () => false)
      : Promise.resolve(false);
    const timeout = new Promise((resolve) => setTimeout(() => resolve(false), 1000));
    if (!(await Promise.race([written, timeout]))) {
      const area = el('textarea');
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
      this.#root.focus({ preventScroll: true });
    }
    this.#onCopy(text);
  }

  #rowAt(viewRow) {
    return this.#order ? this.#order[viewRow] : viewRow;
  }

  #select(row, col) {
    this.#selected = { row, col };
    this.#root.focus({ preventScroll: true });
    // Classes change in place: re-rendering would replace the cell under the pointer and
    // break a double click.
    for (const node of this.#rows.querySelectorAll('.cell.selected')) node.classList.remove('selected');
    this.#rows.querySelector(`.grid-row[data-row="${row}"] .cell[data-col="${col}"]`)?.classList.add('selected');
  }

  #schedule() {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#render();
    });
  }

  #renderHeader() {
    const total = this.#widths.reduce((a, b) => a + b, 0) + this.#numberWidth();
    this.#canvas.style.width = `${total}px`;
    this.#canvas.style.height = `${HEADER_HEIGHT + this.rowCount * ROW_HEIGHT}px`;
    const cells = [cell('#', this.#numberWidth(), 'cell rownum')];
    this.#columns.forEach(({ field }, i) => {
      const arrow = this.#sort?.col === i ? (this.#sort.direction === 'asc' ? ' ▲' : ' ▼') : '';
      const head = cell(`${field.name}${arrow}`, this.#widths[i], 'cell head');
      head.dataset.col = String(i);
      head.title = `${field.name}: ${field.type} (click to sort)`;
      head.setAttribute('role', 'columnheader');
      head.addEventListener('click', () => this.sortBy(i));
      const type = el('span', 'type');
      type.textContent = shortType(field.type);
      head.append(type);
      cells.push(head);
    });
    this.#header.replaceChildren(...cells);
  }

  #numberWidth() {
    return Math.max(48, String(this.rowCount).length * CHAR_WIDTH + 20);
  }

  #render() {
    const height = this.#root.clientHeight || 400;
    const first = Math.max(0, Math.floor(this.#root.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rowCount, first + Math.ceil(height / ROW_HEIGHT) + 2 * OVERSCAN);
    const rows = [];
    for (let r = first; r < last; r++) {
      const row = el('div', 'grid-row');
      row.setAttribute('role', 'row');
      row.style.transform = `translateY(${HEADER_HEIGHT + r * ROW_HEIGHT}px)`;
      row.dataset.row = String(r);
      row.append(cell(String(r + 1), this.#numberWidth(), 'cell rownum'));
      const at = this.#rowAt(r);
      this.#columns.forEach(({ field, vector }, c) => {
        const value = vector.get(at);
        const text = textOf(value, field.type);
        const kind = kindOf(field.type);
        const classes = ['cell', kind === 'number' ? 'num' : ''];
        if (value === null || value === undefined) classes.push('null');
        if (this.#selected?.row === r && this.#selected?.col === c) classes.push('selected');
        const node = cell(text, this.#widths[c], classes.join(' '));
        node.dataset.row = String(r);
        node.dataset.col = String(c);
        node.setAttribute('role', 'gridcell');
        node.title = text.length > 40 ? text : '';
        row.append(node);
      });
      rows.push(row);
    }
    this.#rows.replaceChildren(...rows);
  }
}

/** The row order that sorts a column; nulls last either way. */
function sortedOrder({ field, vector }, direction) {
  const n = vector.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const kind = kindOf(field.type);
  const sign = direction === 'asc' ? 1 : -1;
  let keys;
  if (kind === 'number' || kind === 'time') {
    keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = numberOf(vector.get(i), field.type);
      keys[i] = v === null ? NaN : v;
    }
  } else {
    keys = new Array(n);
    for (let i = 0; i < n; i++) {
      const v = vector.get(i);
      keys[i] = v === null || v === undefined ? null : textOf(v, field.type);
    }
  }
  const isNull = (v) => v === null || Number.isNaN(v);
  order.sort((a, b) => {
    const x = keys[a];
    const y = keys[b];
    if (isNull(x) || isNull(y)) return isNull(x) === isNull(y) ? a - b : isNull(x) ? 1 : -1;
    if (x < y) return -sign;
    if (x > y) return sign;
    return a - b;
  });
  return order;
}

function shortType(type) {
  return String(type)
    .replace(/<.*>$/, '')
    .replace(/^Timestamp.*/, 'Timestamp')
    .toLowerCase();
}

function el(tag, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

function cell(text, width, className) {
  const node = el('div', className);
  node.textContent = text;
  node.style.width = `${width}px`;
  return node;
}
