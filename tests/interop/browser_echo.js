// Interop with a browser's compression: Chromium's WebSocket client (which always offers permessage-deflate)
// against an echo server, from a blank page.
//
//     WSLANE_INTEROP_CHROMIUM=/usr/bin/chromium node browser_echo.js ws://127.0.0.1:9001/
//
// Checks that the extension was negotiated and that text and binary messages of many sizes come back intact.
// Prints `ok <check>` lines and `browser_echo: all checks passed`; exits non-zero otherwise.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const TIMEOUT_MS = 60000;

async function main(url) {
  const executablePath = process.env.WSLANE_INTEROP_CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wslane-chromium-'));
  const overall = setTimeout(() => {
    console.log(`FAIL browser_echo: not done after ${TIMEOUT_MS} ms`);
    process.exit(1);
  }, TIMEOUT_MS);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await context.newPage();
    const result = await page.evaluate(async (url) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('connect failed')); });
      const next = () => new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); });
      const lines = [`ok negotiated ${ws.extensions}`];
      if (!ws.extensions.startsWith('permessage-deflate')) return { ok: false, lines, why: `extensions: ${ws.extensions}` };
      let seed = 6455;
      const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; };
      for (const size of [0, 1, 100, 1000, 10000, 65536, 300000, 1 << 20]) {
        const text = Array.from({ length: size }, (_, i) => 'wslane \u00e9\u2713 '[i % 10]).join('');
        const bytes = new Uint8Array(size).map(() => random() & 255);
        ws.send(text);
        if ((await next()) !== text) return { ok: false, lines, why: `text of ${size} differs` };
        ws.send(bytes);
        const back = new Uint8Array(await next());
        if (back.length !== size || back.some((b, i) => b !== bytes[i])) return { ok: false, lines, why: `binary of ${size} differs` };
        lines.push(`ok echo of ${size} (text and random binary)`);
      }
      ws.close(1000, 'done');
      return { ok: true, lines };
    }, url);
    for (const line of result.lines) console.log(line);
    if (!result.ok) {
      console.log(`FAIL ${result.why}`);
      process.exitCode = 1;
    } else {
      console.log('browser_echo: all checks passed');
    }
  } finally {
    clearTimeout(overall);
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main(process.argv[2]).catch((err) => {
  console.log(`FAIL browser_echo: ${err.stack || err}`);
  process.exit(1);
});
