// A crashed instance's memory is given back. After a panic the package starts a new
// instance; the dead one must not stay reachable (through its copy of the glue module), or
// every crash would keep its whole memory for the life of the process. Each round here
// fills the instance with a ~100 MB table, then crashes it with a Parquet file whose
// decoding panics on wasm32. Run with --expose-gc; prints a JSON report, and exits non-zero
// when the process kept more than two instances' worth of memory.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { install, testdata } from './setup.mjs';

const ROUNDS = 5;
// parquet-testing's bad_data file for arrow-rs issue 6229: a dictionary page header that
// makes the decoder panic (wasm32 cannot unwind, so the instance dies).
const PANICS = 'parquet-testing/bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet';

const data = testdata();
const { quiver } = await install();
const external = () => {
  globalThis.gc();
  return process.memoryUsage().external;
};

const q = await quiver.Quiver.create();
const panics = new Uint8Array(readFileSync(join(data, PANICS)));
const before = external();
const report = { rounds: ROUNDS, restarts: 0, instanceBytes: 0, externalBefore: before, externalAfter: [] };
for (let round = 0; round < ROUNDS; round += 1) {
  await q.query('CREATE TABLE big AS SELECT value AS v, value * 2 AS w FROM generate_series(1, 6000000)');
  report.instanceBytes = Math.max(report.instanceBytes, q.memoryBytes());
  try {
    await q.registerFile('panics.parquet', panics);
    await q.query('SELECT * FROM panics');
    throw new Error(`${PANICS} did not crash the engine`);
  } catch (e) {
    if (!/restarted/.test(e.message)) throw e;
    report.restarts += 1;
  }
  // The new instance answers.
  const [row] = await q.queryRows('SELECT 40 + 2 AS x');
  if (Number(row.x) !== 42) throw new Error(`after round ${round}: ${JSON.stringify(row)}`);
  await new Promise((resolve) => setTimeout(resolve, 20));
  report.externalAfter.push(external());
}
console.log(JSON.stringify(report));
const grown = report.externalAfter.at(-1) - before;
if (report.instanceBytes < 64e6) {
  throw new Error(`the instance held only ${report.instanceBytes} bytes; the test needs a large one`);
}
if (grown > 2 * report.instanceBytes) {
  throw new Error(
    `memory outside the JS heap grew by ${grown} bytes over ${ROUNDS} crashes of a ` +
      `${report.instanceBytes}-byte instance: crashed instances are being kept`,
  );
}
