// The SQL editor: a textarea over a highlighted copy of its text, completion of table and
// column names and keywords, Ctrl/Cmd+Enter to run.

import { tokens, unquote } from './sql.js';

const KEYWORDS = `SELECT FROM WHERE GROUP BY ORDER HAVING LIMIT OFFSET JOIN LEFT RIGHT FULL INNER OUTER
CROSS ON USING AS AND OR NOT IN IS NULL LIKE ILIKE BETWEEN CASE WHEN THEN ELSE END DISTINCT
UNION ALL EXCEPT INTERSECT WITH ASC DESC NULLS FIRST LAST TRUE FALSE CAST OVER PARTITION
VERSION OF TIMESTAMP DATE INTERVAL EXPLAIN ANALYZE DESCRIBE SHOW TABLES CREATE VIEW TABLE
COUNT SUM AVG MIN MAX ROUND COALESCE EXTRACT DATE_TRUNC`.split(/\s+/);
const KEYWORD_SET = new Set(KEYWORDS);

/** A 2D context for measuring the editor's character width. */
let measure;

function escapeHtml(text) {
  return text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
}

/** The SQL as HTML with spans for keywords, strings, numbers, comments, tables, functions. */
export function highlight(sql, tables = new Set()) {
  let html = '';
  for (const { kind, text, start } of tokens(sql)) {
    let cls = null;
    if (kind === 'comment') cls = 'tok-comment';
    else if (kind === 'string') cls = 'tok-string';
    else if (kind === 'quoted') cls = tables.has(unquote(text)) ? 'tok-table' : 'tok-ident';
    else if (kind === 'number') cls = 'tok-number';
    else if (kind === 'word') {
      if (KEYWORD_SET.has(text.toUpperCase())) cls = 'tok-keyword';
      else if (tables.has(text)) cls = 'tok-table';
      else if (sql[start + text.length] === '(') cls = 'tok-function';
    }
    html += cls ? `<span class="${cls}">${escapeHtml(text)}</span>` : escapeHtml(text);
  }
  // A trailing newline needs a character after it to take up a line in the <pre>.
  return `${html}\n`;
}

export class Editor {
  #area;
  #view;
  #popup;
  #names;
  #onRun;
  #choices = [];
  #active = 0;

  /** `names()` returns { tables: string[], columns: string[] } for completion. */
  constructor(root, { onRun, names }) {
    this.#onRun = onRun;
    this.#names = names;
    this.#area = root.querySelector('textarea');
    this.#view = root.querySelector('pre');
    this.#popup = root.querySelector('.completions');
    this.#area.addEventListener('input', () => {
      this.#paint();
      this.#complete();
    });
    this.#area.addEventListener('scroll', () => {
      this.#view.scrollTop = this.#area.scrollTop;
      this.#view.scrollLeft = this.#area.scrollLeft;
    });
    this.#area.addEventListener('keydown', (event) => this.#key(event));
    this.#area.addEventListener('blur', () => setTimeout(() => this.#close(), 150));
    this.#popup.addEventListener('mousedown', (event) => {
      const item = event.target.closest('li');
      if (!item) return;
      event.preventDefault();
      this.#accept(Number(item.dataset.index));
    });
    this.#paint();
  }

  get value() {
    return this.#area.value;
  }

  set value(sql) {
    this.#area.value = sql;
    this.#paint();
  }

  focus() {
    this.#area.focus();
  }

  /** Repaints the highlighting (after the set of tables changed). */
  refresh() {
    this.#paint();
  }

  #paint() {
    this.#view.innerHTML = highlight(this.#area.value, new Set(this.#names().tables));
  }

  #key(event) {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
      event.preventDefault();
      this.#close();
      this.#onRun();
      return;
    }
    if (this.#choices.length) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        this.#active = (this.#active + step + this.#choices.length) % this.#choices.length;
        this.#show();
        return;
      }
      if (event.key === 'Tab' || event.key === 'Enter') {
        event.preventDefault();
        this.#accept(this.#active);
        return;
      }
      if (event.key === 'Escape') {
        this.#close();
        return;
      }
    }
    if (event.key === 'Tab') {
      event.preventDefault();
      this.#replace(this.#area.selectionStart, this.#area.selectionEnd, '  ');
    }
  }

  /** The word being typed just before the caret: { start, word }. */
  #prefix() {
    const caret = this.#area.selectionStart;
    if (caret !== this.#area.selectionEnd) return null;
    const before = this.#area.value.slice(0, caret);
    const match = /[A-Za-z_][A-Za-z0-9_]*$/.exec(before);
    if (!match) return null;
    const after = this.#area.value[caret];
    if (after && /[A-Za-z0-9_]/.test(after)) return null;
    return { start: caret - match[0].length, word: match[0] };
  }

  #complete() {
    const prefix = this.#prefix();
    if (!prefix) return this.#close();
    const { tables, columns } = this.#names();
    const lower = prefix.word.toLowerCase();
    const seen = new Set();
    const choices = [];
    const add = (text, kind) => {
      if (seen.has(text) || text.toLowerCase() === lower || !text.toLowerCase().startsWith(lower)) return;
      seen.add(text);
      choices.push({ text, kind });
    };
    for (const t of tables) add(t, 'table');
    for (const c of columns) add(c, 'column');
    if (prefix.word.length >= 2) for (const k of KEYWORDS) add(prefix.word === lower ? k.toLowerCase() : k, 'keyword');
    this.#choices = choices.slice(0, 8);
    this.#active = 0;
    if (this.#choices.length === 0) return this.#close();
    this.#show();
  }

  #show() {
    const items = this.#choices.map(({ text, kind }, i) => {
      const li = document.createElement('li');
      li.dataset.index = String(i);
      li.className = i === this.#active ? 'active' : '';
      li.innerHTML = `<span>${escapeHtml(text)}</span><small>${kind}</small>`;
      return li;
    });
    this.#popup.replaceChildren(...items);
    const { left, top } = this.#caretPixels();
    this.#popup.style.left = `${left}px`;
    this.#popup.style.top = `${top}px`;
    this.#popup.hidden = false;
  }

  #close() {
    this.#choices = [];
    this.#popup.hidden = true;
  }

  #accept(index) {
    const choice = this.#choices[index];
    const prefix = this.#prefix();
    this.#close();
    if (!choice || !prefix) return;
    const text = /^[a-z_][a-z0-9_]*$/.test(choice.text) || choice.kind === 'keyword' ? choice.text : `"${choice.text.replace(/"/g, '""')}"`;
    this.#replace(prefix.start, this.#area.selectionStart, text);
  }

  #replace(start, end, text) {
    this.#area.setRangeText(text, start, end, 'end');
    this.#paint();
    this.#area.focus();
  }

  /** Where the caret is, in pixels from the editor's corner (monospace text). */
  #caretPixels() {
    const style = getComputedStyle(this.#area);
    const before = this.#area.value.slice(0, this.#area.selectionStart).split('\n');
    measure ??= document.createElement('canvas').getContext('2d');
    const ctx = measure;
    ctx.font = `${style.fontSize} ${style.fontFamily}`;
    const charWidth = ctx.measureText('M').width;
    const lineHeight = parseFloat(style.lineHeight) || 20;
    const padLeft = parseFloat(style.paddingLeft);
    const padTop = parseFloat(style.paddingTop);
    const line = before.length - 1;
    const column = before[line].length;
    return {
      left: padLeft + column * charWidth - this.#area.scrollLeft,
      top: padTop + (line + 1) * lineHeight - this.#area.scrollTop + 2,
    };
  }
}
