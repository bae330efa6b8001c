// Results as sqllogictest text, written the way DataFusion's runner writes them
// (datafusion-sqllogictest's `convert_batches` and `convert_schema_to_types`), from the
// apache-arrow Table the npm package returns. The .slt agreement runner (slt.test.mjs)
// compares this text with the answers in tests/slt/*.slt, which the native build gives.
//
// It lives in the tests rather than in the package so that no user downloads a
// sqllogictest formatter. tests/integration/wasm_slt_format.rs keeps the cases in
// slt_format_cases.json equal to DataFusion's own text, and slt.test.mjs checks this file
// writes the same text for them.
//
// Types it has no case for throw rather than guess: add a case to slt_format_cases.json
// (tests/integration/wasm_slt_format.rs run with QUIVER_BLESS=1 writes its text) and the type here.

const NULL = 'NULL';

/** `{ types, rows }` for a Table: one type letter per column and every row as text cells.
 * `arrow` is the apache-arrow module the Table came from (for its type enums). */
export function sltText(table, arrow) {
  const f = new Formatter(arrow);
  const fields = table.schema.fields;
  const types = fields.map((field) => f.typeChar(field.type)).join('');
  const rows = [];
  for (const batch of table.batches) {
    const columns = batch.data.children;
    for (let row = 0; row < batch.numRows; row += 1) {
      expand(
        columns.map((column) => f.cell(column, row)),
        rows,
      );
    }
  }
  return { types, rows };
}

/** A last cell of several lines (a plan) becomes one numbered row per line, its leading
 * spaces as dashes, because sqllogictest compares rows with whitespace collapsed. */
function expand(cells, out) {
  const last = cells.pop();
  const lines = last === undefined ? [] : last.split('\n');
  if (lines.length < 2) {
    if (last !== undefined) cells.push(last);
    out.push(cells);
    return;
  }
  out.push(cells);
  lines.forEach((line, i) => {
    const content = line.trimStart();
    const indent = '-'.repeat(line.length - content.length);
    out.push([`${String(i + 1).padStart(2, '0')})${indent}${content}`]);
  });
}

class Formatter {
  constructor(arrow) {
    this.T = arrow.Type;
    this.Precision = arrow.Precision;
    this.DateUnit = arrow.DateUnit;
    this.TimeUnit = arrow.TimeUnit;
    this.IntervalUnit = arrow.IntervalUnit;
  }

  /** `B`oolean, `I`nteger, `R`eal, `T`ext, `D`ate/time, `P` timestamp, `?` anything else. */
  typeChar(type) {
    const T = this.T;
    switch (type.typeId) {
      case T.Bool:
        return 'B';
      case T.Int:
        return 'I';
      case T.Float:
      case T.Decimal:
        return 'R';
      case T.Utf8:
      case T.LargeUtf8:
        return 'T';
      case T.Date:
      case T.Time:
        return 'D';
      case T.Timestamp:
        return 'P';
      case T.Dictionary:
        return [T.Utf8, T.LargeUtf8].includes(type.dictionary.typeId) ? 'T' : '?';
      default:
        return '?';
    }
  }

  /** One top-level value as the runner writes it: numbers rounded, text normalised, the
   * rest as Arrow displays it. */
  cell(data, i) {
    const T = this.T;
    if (data.typeId === T.Null || !data.getValid(i)) return NULL;
    switch (data.typeId) {
      case T.Bool:
        return String(bit(data, i));
      case T.Float: {
        const value = floatValue(data, i, this.Precision);
        if (Number.isNaN(value)) return 'NaN';
        if (value === Infinity) return 'Infinity';
        if (value === -Infinity) return '-Infinity';
        // Half floats are shown through f32, as the `half` crate does.
        const digits = data.type.precision === this.Precision.DOUBLE ? shortest64(value) : shortest32(value);
        return plain(normalize(round(digits, 12)));
      }
      case T.Decimal:
        return plain(normalize({ unscaled: decimalValue(data, i), scale: data.type.scale }));
      case T.Utf8:
      case T.LargeUtf8: {
        const text = string(data, i);
        // sqllogictest has no empty cell, and a NUL would not show in a review.
        return text === '' ? '(empty)' : text.replace(/\n+$/, '').replaceAll('\u0000', '\\0');
      }
      case T.Dictionary:
        return this.inDictionary(data, i, (chunk, key) => this.cell(chunk, key));
      default:
        return this.display(data, i);
    }
  }

  /** One value as arrow-rs's `ArrayFormatter` shows it with DataFusion's default format
   * options and nulls spelled NULL. */
  display(data, i) {
    const T = this.T;
    if (data.typeId === T.Null || !data.getValid(i)) return NULL;
    const type = data.type;
    switch (data.typeId) {
      case T.Bool:
        return String(bit(data, i));
      case T.Int:
        return String(data.values[i]);
      case T.Decimal:
        return decimalText(decimalValue(data, i), type.scale);
      case T.Utf8:
      case T.LargeUtf8:
        return string(data, i);
      case T.Binary:
      case T.LargeBinary:
      case T.FixedSizeBinary:
        return [...this.binary(data, i)].map((b) => b.toString(16).padStart(2, '0')).join('');
      case T.Date:
        return type.unit === this.DateUnit.DAY
          ? civil(BigInt(data.values[i]) * 86_400n).date
          : dateTime(BigInt(data.values[i]), 1_000n);
      case T.Time:
        return timeText(BigInt(data.values[i]) * (1_000_000_000n / perSecond(type.unit, this.TimeUnit)));
      case T.Timestamp:
        return this.timestamp(data.values[i], type);
      case T.Duration:
        return duration(data.values[i], type.unit, this.TimeUnit);
      case T.Interval:
        return this.interval(data, i);
      case T.List:
      case T.FixedSizeList: {
        const [start, end] =
          data.typeId === T.List ? [data.valueOffsets[i], data.valueOffsets[i + 1]] : [i * type.listSize, (i + 1) * type.listSize];
        const child = data.children[0];
        const items = [];
        for (let j = start; j < end; j += 1) items.push(this.display(child, j));
        return `[${items.join(', ')}]`;
      }
      case T.Struct:
        return `{${type.children.map((field, k) => `${field.name}: ${this.display(data.children[k], i)}`).join(', ')}}`;
      case T.Map: {
        const [keys, values] = data.children[0].children;
        const entries = [];
        for (let j = data.valueOffsets[i]; j < data.valueOffsets[i + 1]; j += 1) {
          entries.push(`${this.display(keys, j)}: ${this.display(values, j)}`);
        }
        return `{${entries.join(', ')}}`;
      }
      case T.Dictionary:
        return this.inDictionary(data, i, (chunk, key) => this.display(chunk, key));
      default:
        // Floats inside nested values (arrow-rs writes them with ryu), unions and the rest.
        throw new Error(`slt_format.mjs: no sqllogictest text for ${type} yet`);
    }
  }

  binary(data, i) {
    if (data.typeId !== this.T.FixedSizeBinary) return bytesAt(data, i);
    const width = data.type.byteWidth;
    return data.values.subarray(i * width, (i + 1) * width);
  }

  /** The dictionary value a key points to, passed to `show` with its chunk. */
  inDictionary(data, i, show) {
    let key = Number(data.values[i]);
    for (const chunk of data.dictionary.data) {
      if (key < chunk.length) return show(chunk, key);
      key -= chunk.length;
    }
    throw new Error(`dictionary key ${data.values[i]} is past the dictionary's end`);
  }

  timestamp(value, type) {
    const per = perSecond(type.unit, this.TimeUnit);
    if (!type.timezone) return dateTime(BigInt(value), per);
    const offset = offsetSeconds(type.timezone);
    const { seconds, nanos } = split(BigInt(value), per);
    // chrono's RFC 3339 with `Z` for a zero offset; seconds' fraction as in `%.f`.
    const text = dateText(seconds + BigInt(offset), nanos);
    if (offset === 0) return `${text}Z`;
    const abs = Math.abs(offset);
    const hhmm = `${pad2(Math.floor(abs / 3600))}:${pad2(Math.floor(abs / 60) % 60)}`;
    return `${text}${offset < 0 ? '-' : '+'}${hhmm}`;
  }

  interval(data, i) {
    const unit = data.type.unit;
    const v = data.values;
    if (unit === this.IntervalUnit.YEAR_MONTH) {
      const years = Math.floor(v[i] / 12);
      return `${years} years ${v[i] - years * 12} mons`;
    }
    const parts = [];
    let sub;
    if (unit === this.IntervalUnit.DAY_TIME) {
      const [days, millis] = [v[2 * i], v[2 * i + 1]];
      if (days !== 0) parts.push(`${days} days`);
      sub = clock(BigInt(millis), 1_000n, 3);
    } else {
      const [months, days] = [v[4 * i], v[4 * i + 1]];
      const nanos = (BigInt(v[4 * i + 3]) << 32n) | BigInt(v[4 * i + 2] >>> 0);
      if (months !== 0) parts.push(`${months} mons`);
      if (days !== 0) parts.push(`${days} days`);
      sub = clock(nanos, 1_000_000_000n, 9);
    }
    parts.push(...sub);
    return parts.length ? parts.join(' ') : '0 secs';
  }
}

/** The hours, minutes and seconds of an interval, each only when not zero. */
function clock(value, per, digits) {
  const secs = value / per;
  const mins = secs / 60n;
  const hours = mins / 60n;
  const frac = value % per;
  const out = [];
  if (hours !== 0n) out.push(`${hours} hours`);
  if (mins - hours * 60n !== 0n) out.push(`${mins - hours * 60n} mins`);
  const s = secs - mins * 60n;
  if (s !== 0n || frac !== 0n) {
    const sign = s < 0n || frac < 0n ? '-' : '';
    out.push(`${sign}${abs(s)}.${String(abs(frac)).padStart(digits, '0')} secs`);
  }
  return out;
}

/** arrow-rs's "pretty" duration: days, hours, minutes and seconds, always all four. */
function duration(value, unit, TimeUnit) {
  const v = BigInt(value);
  const per = perSecond(unit, TimeUnit);
  const secs = v / per;
  const mins = secs / 60n;
  const hours = mins / 60n;
  const days = hours / 24n;
  const head = `${days} days ${hours - days * 24n} hours ${mins - hours * 60n} mins`;
  const s = secs - mins * 60n;
  if (per === 1n) return `${head} ${s} secs`;
  const digits = String(per).length - 1;
  const frac = v - secs * per;
  if (frac < 0n) return `${head} -${abs(s)}.${String(abs(frac)).padStart(digits, '0')} secs`;
  return `${head} ${s}.${String(frac).padStart(digits, '0')} secs`;
}

function perSecond(unit, TimeUnit) {
  switch (unit) {
    case TimeUnit.SECOND:
      return 1n;
    case TimeUnit.MILLISECOND:
      return 1_000n;
    case TimeUnit.MICROSECOND:
      return 1_000_000n;
    default:
      return 1_000_000_000n;
  }
}

/** Whole seconds (rounded down) and the nanoseconds past them. */
function split(value, per) {
  let seconds = value / per;
  let rest = value - seconds * per;
  if (rest < 0n) {
    seconds -= 1n;
    rest += per;
  }
  return { seconds, nanos: rest * (1_000_000_000n / per) };
}

/** `%Y-%m-%dT%H:%M:%S%.f` of a time since the epoch. */
function dateTime(value, per) {
  const { seconds, nanos } = split(value, per);
  return dateText(seconds, nanos);
}

function dateText(seconds, nanos) {
  const { date, time } = civil(seconds);
  return `${date}T${time}${fraction(nanos)}`;
}

/** `%Y-%m-%d` and `%H:%M:%S` of whole seconds since the epoch. */
function civil(seconds) {
  const d = new Date(Number(seconds) * 1000);
  const year = d.getUTCFullYear();
  // chrono's %Y: four digits, with a sign outside 0..=9999.
  const y =
    year >= 0 && year <= 9999
      ? String(year).padStart(4, '0')
      : `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(4, '0')}`;
  return {
    date: `${y}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`,
    time: `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`,
  };
}

/** `%H:%M:%S%.f` of nanoseconds since midnight. */
function timeText(nanos) {
  const seconds = nanos / 1_000_000_000n;
  const h = seconds / 3600n;
  const m = (seconds / 60n) % 60n;
  const s = seconds % 60n;
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}${fraction(nanos % 1_000_000_000n)}`;
}

/** chrono's `%.f`: nothing for whole seconds, else 3, 6 or 9 digits, as few as exact. */
function fraction(nanos) {
  if (nanos === 0n) return '';
  const text = String(nanos).padStart(9, '0');
  if (nanos % 1_000_000n === 0n) return `.${text.slice(0, 3)}`;
  if (nanos % 1_000n === 0n) return `.${text.slice(0, 6)}`;
  return `.${text}`;
}

/** The offset of a timestamp's time zone, in seconds east of UTC. */
function offsetSeconds(zone) {
  if (zone === 'UTC' || zone === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!m) throw new Error(`slt_format.mjs: no sqllogictest text for the time zone ${zone} yet`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60);
}

function pad2(n) {
  return String(n).padStart(2, '0');
}

function abs(n) {
  return n < 0n ? -n : n;
}

function bit(data, i) {
  // Booleans keep their buffer unsliced: the offset counts bits.
  const at = data.offset + i;
  return ((data.values[at >> 3] >> (at & 7)) & 1) === 1;
}

function floatValue(data, i, Precision) {
  if (data.type.precision !== Precision.HALF) return data.values[i];
  const bits = data.values[i];
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fractionBits = bits & 0x3ff;
  if (exponent === 0x1f) return fractionBits ? NaN : sign * Infinity;
  if (exponent === 0) return sign * fractionBits * 2 ** -24;
  return sign * (1 + fractionBits / 1024) * 2 ** (exponent - 15);
}

function bytesAt(data, i) {
  const start = Number(data.valueOffsets[i]);
  const end = Number(data.valueOffsets[i + 1]);
  return data.values.subarray(start, end);
}

function string(data, i) {
  return new TextDecoder().decode(bytesAt(data, i));
}

/** A decimal's unscaled value: little-endian 32-bit words, two's complement. */
function decimalValue(data, i) {
  const words = data.type.bitWidth / 32;
  let value = 0n;
  for (let w = words - 1; w >= 0; w -= 1) value = (value << 32n) | BigInt(data.values[i * words + w]);
  const bits = BigInt(data.type.bitWidth);
  return value >= 1n << (bits - 1n) ? value - (1n << bits) : value;
}

/** A decimal as Arrow writes it: all `scale` digits after the point. */
function decimalText(unscaled, scale) {
  if (scale <= 0) return String(unscaled * 10n ** BigInt(-scale));
  const digits = String(abs(unscaled)).padStart(scale + 1, '0');
  const sign = unscaled < 0n ? '-' : '';
  return `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

// Exact decimals as { unscaled: BigInt, scale }: the value is unscaled / 10^scale. These
// stand in for the `bigdecimal` crate the runner uses.

/** The digits Rust prints for an f64 (the shortest that read back the same). */
function shortest64(value) {
  return fromExponential(value.toExponential());
}

/** The digits Rust prints for an f32: the shortest that read back as the same f32. */
function shortest32(value) {
  for (let digits = 1; digits < 10; digits += 1) {
    const text = value.toExponential(digits - 1);
    if (Math.fround(Number(text)) === value) return fromExponential(text);
  }
  return fromExponential(value.toExponential());
}

function fromExponential(text) {
  const [mantissa, exponent] = text.split('e');
  const [whole, frac = ''] = mantissa.split('.');
  return { unscaled: BigInt(whole + frac), scale: frac.length - Number(exponent) };
}

/** Rounded to `digits` places after the point, ties to even (BigDecimal's default). */
function round({ unscaled, scale }, digits) {
  if (scale <= digits) return { unscaled, scale };
  const factor = 10n ** BigInt(scale - digits);
  let q = unscaled / factor;
  const twice = abs(unscaled % factor) * 2n;
  const sign = unscaled < 0n ? -1n : 1n;
  if (twice > factor || (twice === factor && q % 2n !== 0n)) q += sign;
  return { unscaled: q, scale: digits };
}

/** Without trailing zeros (the scale may go below zero). */
function normalize({ unscaled, scale }) {
  if (unscaled === 0n) return { unscaled, scale: 0 };
  while (unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale -= 1;
  }
  return { unscaled, scale };
}

/** Plain notation, never an exponent. */
function plain({ unscaled, scale }) {
  return decimalText(unscaled, scale);
}
