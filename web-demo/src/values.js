// How the explorer reads an apache-arrow column: what kind of values it holds (for charts
// and sorting) and how a value looks as text (for the grid, copying and tooltips).

import { Type } from 'apache-arrow';

/** 'time', 'number', 'text' or 'other', from an Arrow type. */
export function kindOf(type) {
  switch (type.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Decimal:
      return 'number';
    case Type.Date:
    case Type.Timestamp:
      return 'time';
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Bool:
    case Type.Dictionary:
      return 'text';
    default:
      return 'other';
  }
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

function isoDate(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function isoTimestamp(ms) {
  const d = new Date(ms);
  const frac = d.getUTCMilliseconds();
  return `${isoDate(ms)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac ? `.${pad(frac, 3)}` : ''}`;
}

/** The decimal text of an Arrow decimal value (an unscaled big integer) at `scale`. */
function decimalText(value, scale) {
  let digits = String(value);
  const negative = digits.startsWith('-');
  if (negative) digits = digits.slice(1);
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

/** A value as a number (for charts and sorting); null when it has none. */
export function numberOf(value, type) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (type?.typeId === Type.Decimal) return Number(decimalText(value, type.scale));
  if (value instanceof Date) return value.getTime();
  return null;
}

function nestedText(value, type) {
  if (value === null || value === undefined) return 'NULL';
  if (type.typeId === Type.List || type.typeId === Type.LargeList || type.typeId === Type.FixedSizeList) {
    const child = type.children[0].type;
    return `[${[...value].map((v) => nestedText(v, child)).join(', ')}]`;
  }
  if (type.typeId === Type.Struct) {
    return `{${type.children.map((f) => `${f.name}: ${nestedText(value[f.name], f.type)}`).join(', ')}}`;
  }
  if (type.typeId === Type.Map) {
    const [keyField, valueField] = type.children[0].type.children;
    const parts = [];
    for (const [k, v] of value) parts.push(`${nestedText(k, keyField.type)}: ${nestedText(v, valueField.type)}`);
    return `{${parts.join(', ')}}`;
  }
  return textOf(value, type);
}

/** A value as the grid shows it: ISO dates and times (UTC), exact decimals, nested values
 * spelled out; `NULL` for a null. */
export function textOf(value, type) {
  if (value === null || value === undefined) return 'NULL';
  switch (type.typeId) {
    case Type.Date:
      return isoDate(value);
    case Type.Timestamp:
      return isoTimestamp(value);
    case Type.Decimal:
      return decimalText(value, type.scale);
    case Type.Float:
      return Number.isInteger(value) ? value.toFixed(1) : String(value);
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary:
      return `0x${Array.from(value, (b) => pad(b.toString(16))).join('')}`;
    case Type.Interval:
      return Array.from(value).join(' ');
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList:
    case Type.Struct:
    case Type.Map:
      return nestedText(value, type);
    default:
      return String(value);
  }
}
