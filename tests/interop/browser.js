// What the browser scripts share: a headless Chromium on a fresh profile, an overall time bound, page
// logging, and screenshots kept as test artifacts.
//
//     WSLANE_INTEROP_CHROMIUM   the Chromium binary (default /usr/bin/chromium)
//     WSLANE_INTEROP_ARTIFACTS  where screenshots go (default: none are saved)
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

// Every wait is bounded.
const TIMEOUT_MS = 30000;

// Runs `body(context)` in a fresh headless Chromium and closes it afterwards. `name` prefixes the failure
// line; the whole run is bounded by `limitMs`. Prints `<name>: all checks passed` when `body` returns,
// and `FAIL <name>: …` with a non-zero exit when it throws. `options.ignoreCertificateErrors` lets the
// pages load from a server with a self-signed certificate.
async function withBrowser(name, limitMs, body, options = {}) {
  const executablePath = process.env.WSLANE_INTEROP_CHROMIUM || '/usr/bin/chromium';
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wslane-chromium-'));
  let context;
  const cleanup = async () => {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  const overall = setTimeout(async () => {
    console.log(`FAIL ${name}: not done after ${limitMs} ms`);
    await cleanup();
    process.exit(1);
  }, limitMs);
  try {
    if (!fs.existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}`);
    // A persistent context on a fresh profile directory: launch() does not take --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      timeout: TIMEOUT_MS,
      viewport: { width: 900, height: 600 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        ...(options.ignoreCertificateErrors ? ['--ignore-certificate-errors'] : []),
      ],
    });
    context.setDefaultTimeout(TIMEOUT_MS);
    await body(context);
    console.log(`${name}: all checks passed`);
  } catch (err) {
    console.log(`FAIL ${name}: ${err.stack || err}`);
    process.exitCode = 1;
  } finally {
    clearTimeout(overall);
    await cleanup();
  }
}

// A new tab whose console messages and errors are printed with `label`.
async function newPage(context, label) {
  const page = await context.newPage();
  page.on('console', (m) => console.log(`[${label} console] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.log(`[${label} page error] ${e.message}`));
  return page;
}

// Saves a screenshot of `page` as `<file>` in the artifacts directory, when there is one.
async function screenshot(page, file) {
  const dir = process.env.WSLANE_INTEROP_ARTIFACTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  const where = path.join(dir, file);
  await page.screenshot({ path: where, fullPage: true });
  console.log(`screenshot ${where}`);
}

module.exports = { TIMEOUT_MS, withBrowser, newPage, screenshot };
