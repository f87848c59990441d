// Interop with a browser: Chromium's own WebSocket client, through the chat example's page.
//
//     WSLANE_INTEROP_CHROMIUM=/usr/bin/chromium node browser_chat.js http://127.0.0.1:8080/
//
// Opens the page twice, waits until both pages are connected and the second one's join notice reached both,
// sends one message from each page, and checks that both messages appear on both pages. Prints one
// `ok <check>` line per check and `browser_chat: all checks passed` at the end; exits non-zero otherwise.
//
// Chromium always offers permessage-deflate; the checks hold whichever way the chat example answers.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

// Every wait is bounded.
const TIMEOUT_MS = 30000;

async function main(url) {
  const executablePath = process.env.WSLANE_INTEROP_CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wslane-chromium-'));
  let context;
  const cleanup = async () => {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  const overall = setTimeout(async () => {
    console.log(`FAIL browser_chat: not done after ${2 * TIMEOUT_MS} ms`);
    await cleanup();
    process.exit(1);
  }, 2 * TIMEOUT_MS);

  try {
    // A persistent context on a fresh profile directory: launch() does not take --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      timeout: TIMEOUT_MS,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context.setDefaultTimeout(TIMEOUT_MS);

    const open = async (label) => {
      const page = await context.newPage();
      page.on('console', (m) => console.log(`[${label} console] ${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => console.log(`[${label} page error] ${e.message}`));
      await page.goto(url);
      await page.waitForFunction(() => document.getElementById('status').textContent === 'connected');
      console.log(`ok ${label} connected`);
      return page;
    };
    const lines = (page) => page.$$eval('#log li', (items) => items.map((li) => li.textContent));
    const waitForLine = async (page, label, pattern) => {
      try {
        await page.waitForFunction(
          ([source, flags]) =>
            [...document.querySelectorAll('#log li')].some((li) => new RegExp(source, flags).test(li.textContent)),
          [pattern.source, pattern.flags],
        );
      } catch (err) {
        throw new Error(`${label}: no line matching ${pattern} in ${JSON.stringify(await lines(page))}: ${err.message}`);
      }
    };
    const send = async (page, text) => {
      await page.fill('#text', text);
      await page.click('#send');
    };

    const one = await open('page one');
    const two = await open('page two');
    // The second page's join notice reaches both pages (the first page also saw its own).
    for (const [page, label] of [[one, 'page one'], [two, 'page two']]) {
      await waitForLine(page, label, /^guest-\d+ joined$/);
    }
    const joins = (await lines(one)).filter((l) => / joined$/.test(l));
    if (joins.length < 2) throw new Error(`page one saw ${JSON.stringify(joins)}, expected two join notices`);
    console.log(`ok join notices on both pages: ${JSON.stringify(joins)}`);

    await send(one, 'hello from page one \u2713');
    await send(two, 'hello from page two \u{1f980}');
    for (const [page, label] of [[one, 'page one'], [two, 'page two']]) {
      await waitForLine(page, label, /^guest-\d+: hello from page one \u2713$/);
      await waitForLine(page, label, /^guest-\d+: hello from page two \u{1f980}$/u);
      console.log(`ok ${label} shows both messages: ${JSON.stringify(await lines(page))}`);
    }
    for (const [page, label] of [[one, 'page one'], [two, 'page two']]) {
      const status = await page.textContent('#status');
      if (status !== 'connected') throw new Error(`${label}: status ${JSON.stringify(status)} after the exchange`);
    }
    console.log('browser_chat: all checks passed');
  } finally {
    clearTimeout(overall);
    await cleanup();
  }
}

if (process.argv.length !== 3) {
  console.error('usage: browser_chat.js http://host:port/');
  process.exit(2);
}
main(process.argv[2]).catch((err) => {
  console.log(`FAIL browser_chat: ${err.stack || err}`);
  process.exit(1);
});
