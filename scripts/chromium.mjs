// How every browser test and benchmark launches Chromium: Debian's own build (installed by
// scripts/setup.sh; never a downloaded browser), headless, with the flags a shared CI
// machine needs. Pass the result to playwright-core's `chromium.launch`.

import { execFileSync } from 'node:child_process';

/** Debian's chromium, or an error saying how to install it. */
export function chromiumPath() {
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`]).toString().trim();
    } catch {
      // try the next name
    }
  }
  throw new Error("Debian's chromium is not installed (scripts/setup.sh installs it)");
}

/** Options for `chromium.launch`. */
export function launchOptions() {
  return {
    executablePath: chromiumPath(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  };
}
