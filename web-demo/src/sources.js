// Getting data in: files and folders from pickers and drops, and the built-in sample.

/** Splits picked files into single files and folders (by their first path segment):
 * { files: File[], folders: Map<folder, Map<pathInFolder, File>> }. */
export function groupPicked(fileList) {
  const files = [];
  const folders = new Map();
  for (const file of fileList) {
    const relative = file.webkitRelativePath || '';
    const slash = relative.indexOf('/');
    if (slash < 0) {
      files.push(file);
      continue;
    }
    const folder = relative.slice(0, slash);
    if (!folders.has(folder)) folders.set(folder, new Map());
    folders.get(folder).set(relative.slice(slash + 1), file);
  }
  return { files, folders };
}

function readEntries(reader) {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry) {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Every file below a dropped directory entry, by its path inside the directory. */
async function walk(directory, prefix, out) {
  const reader = directory.createReader();
  // readEntries hands out a directory's entries a batch at a time, until an empty batch.
  for (;;) {
    const batch = await readEntries(reader);
    if (batch.length === 0) break;
    for (const entry of batch) {
      if (entry.isDirectory) await walk(entry, `${prefix}${entry.name}/`, out);
      else out.set(`${prefix}${entry.name}`, await fileOf(entry));
    }
  }
  return out;
}

/** What was dropped, grouped as `groupPicked` groups picked files. */
export async function groupDropped(dataTransfer) {
  const files = [];
  const folders = new Map();
  // Entries must be taken before the first await: the drop's items go stale after it.
  const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (entries.length === 0) return { files: [...dataTransfer.files], folders };
  for (const entry of entries) {
    if (entry.isDirectory) folders.set(entry.name, await walk(entry, '', new Map()));
    else files.push(await fileOf(entry));
  }
  return { files, folders };
}

/** The sample dataset: daily weather for six cities over three years (2022-2024), made up
 * from seasonal curves and deterministic noise, so the page has something to show with no
 * files at all. */
export const SAMPLE = {
  tables: [{ name: 'weather', sql: `WITH cities(city, country, base, swing, wet) AS (VALUES
    ('Oslo', 'Norway', 6.0, 9.5, 2.2), ('Madrid', 'Spain', 15.0, 9.0, 1.2),
    ('Singapore', 'Singapore', 27.5, 1.0, 6.5), ('Sydney', 'Australia', 18.0, -5.0, 3.3),
    ('Chicago', 'United States', 10.0, 14.0, 2.6), ('Nairobi', 'Kenya', 19.0, 1.5, 2.5)),
  days AS (SELECT value AS d FROM generate_series(0, 1095))
SELECT CAST(DATE '2022-01-01' + CAST(d AS INT) AS DATE) AS day, city, country,
  round(base - swing * cos(2 * pi() * (d - 15) / 365.25)
        + 4 * (abs(sin(d * 12.9898 + length(city) * 78.233) * 43758.5453) % 1 - 0.5), 1) AS temperature_c,
  round(greatest(0, wet * (abs(sin(d * 4.1414 + length(city) * 3.7) * 24634.6345) % 1) * 3 - wet), 1) AS rain_mm
FROM days CROSS JOIN cities ORDER BY day, city` }],
  query: `SELECT city, round(avg(temperature_c), 1) AS avg_temperature_c, round(sum(rain_mm)) AS rain_mm
FROM weather
GROUP BY city
ORDER BY avg_temperature_c DESC`,
};

/** The market sample: an hour of quotes (every 5 seconds) and trades for three made-up
 * symbols, deterministic, to show an ASOF JOIN (each trade with the quote in force) and time
 * buckets. */
const OPEN = 1772443800; // 2026-03-02 09:30:00 UTC, in seconds
export const MARKET = {
  tables: [
    {
      name: 'quotes',
      sql: `WITH syms(sym, base) AS (VALUES ('ACME', 42.0), ('BOLT', 17.5), ('CRUX', 103.0)),
  s AS (SELECT value AS i FROM generate_series(0, 719))
SELECT sym, to_timestamp_seconds(${OPEN} + i * 5) AS ts,
  round(base * (1 + 0.01 * sin(i / 40.0 + length(sym))), 2) - 0.01 AS bid,
  round(base * (1 + 0.01 * sin(i / 40.0 + length(sym))), 2) + 0.01 AS ask
FROM s CROSS JOIN syms ORDER BY ts, sym`,
    },
    {
      name: 'trades',
      sql: `WITH syms(sym, base) AS (VALUES ('ACME', 42.0), ('BOLT', 17.5), ('CRUX', 103.0)),
  s AS (SELECT value AS i FROM generate_series(0, 1499)),
  t AS (SELECT sym, base, (i * 7919 + length(sym) * 104729) % 3600 AS sec,
          abs(sin(i * 12.9898 + length(sym) * 78.233) * 43758.5453) % 1 AS u FROM s CROSS JOIN syms)
SELECT sym, to_timestamp_seconds(${OPEN} + sec) AS ts,
  round(base * (1 + 0.01 * sin(sec / 200.0 + length(sym))) + (u - 0.5) * 0.04, 2) AS price,
  CAST(CASE WHEN u < 0.08 THEN 1000 + u * 40000 ELSE 1 + u * 300 END AS BIGINT) AS size
FROM t ORDER BY ts, sym`,
    },
  ],
  query: `-- Each trade with the quote in force when it happened, in 10-minute buckets.
SELECT t.sym, time_bucket(INTERVAL '10 minutes', t.ts) AS bucket, count(*) AS n_trades,
  round(avg(t.price - (q.bid + q.ask) / 2), 4) AS vs_mid
FROM trades t ASOF JOIN quotes q ON t.sym = q.sym AND t.ts >= q.ts
GROUP BY 1, 2
ORDER BY 2, 1`,
};
