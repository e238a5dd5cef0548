// Debian's chromium, headless, driven by playwright-core: the machinery that opens a report
// page from disk for the browser test (test/report-browser.test.ts) and takes the screenshots
// (bench/screenshots.ts). Fresh profile per launch, nothing that reaches the network.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.MIGSIM_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Why chromium cannot be used here, or null when it can. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `no chromium at ${CHROMIUM}: install Debian's (apt-get install chromium) or set MIGSIM_CHROMIUM`;
}

export interface Headless {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A browser context on a fresh temporary profile; `close` removes the profile too. */
export async function launchHeadless(viewport = { width: 1400, height: 900 }): Promise<Headless> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const profile = mkdtempSync(join(tmpdir(), 'migsim-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
