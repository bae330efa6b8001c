// Bad input: every Parquet file in parquet-testing/bad_data and every fuzz or crash file in
// arrow-testing gives an Error or reads (a few are valid), never breaks the instance, and a
// second pass over them needs no more memory than the first (nothing leaks per file).

const FOLDERS = [
  ['parquet-testing/bad_data', 'parquet'],
  ['arrow-testing/data/parquet', 'parquet'],
  ['arrow-testing/data/arrow-ipc-file', 'arrow'],
  ['arrow-testing/data/arrow-ipc-stream', 'arrows'],
];

export async function badFiles({ Quiver, load, list }) {
  const q = await Quiver.create({ memoryLimit: 256 * 1024 * 1024 });
  const files = [];
  for (const [folder, format] of FOLDERS) {
    for (const path of await list(folder)) {
      if (/\.(md|txt|json|gz)$/i.test(path)) continue;
      if (format === 'parquet' && /\.(arrow|arrow_file|stream)$/.test(path)) continue;
      files.push([path, format]);
    }
  }
  if (files.length < 50) throw new Error(`only ${files.length} bad files found`);
  const report = { files: files.length, errors: 0, read: 0, restarts: 0, memory: [] };
  for (let pass = 0; pass < 2; pass += 1) {
    for (const [path, format] of files) {
      const data = await load(path);
      try {
        // A name without the file's own extension, so the format comes from the folder.
        await q.registerFile('bad', data, { format });
        await q.query('SELECT * FROM bad');
        if (pass === 0) report.read += 1;
      } catch (e) {
        if (!(e instanceof Error) || !e.message) throw new Error(`${path}: rejected with ${e}`);
        if (pass === 0) report.errors += 1;
        if (/restarted/.test(e.message)) report.restarts += 1;
      }
      try {
        await q.unregister('bad');
      } catch {
        // never registered
      }
    }
    report.memory.push(q.memoryBytes());
    // The instance still answers.
    const rows = await q.queryRows('SELECT 40 + 2 AS x');
    if (Number(rows[0].x) !== 42) throw new Error(`after pass ${pass}: ${JSON.stringify(rows)}`);
  }
  const [first, second] = report.memory;
  if (second > first * 1.1 + 16 * 1024 * 1024) {
    throw new Error(`memory grew from ${first} to ${second} bytes over a second pass of the same files`);
  }
  if (report.errors === 0) throw new Error('no bad file gave an error');
  return report;
}
