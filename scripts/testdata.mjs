// Where the JS tests find the shared corpora: ../shared/testdata beside the workspace.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** ../shared/testdata, or null (after saying so) when absent; with CI=true absent fails. */
export function testdata() {
  const dir = resolve(root, '../shared/testdata');
  if (existsSync(dir)) return dir;
  if (process.env.CI === 'true') {
    throw new Error('../shared/testdata is missing, and CI=true: the corpus tests cannot run');
  }
  console.warn('SKIPPED: ../shared/testdata is not beside the workspace');
  return null;
}
