// The ticker example's page in Chromium, across a server restart.
//
//     WSLANE_INTEROP_CHROMIUM=/usr/bin/chromium node browser_ticker.js http://127.0.0.1:8081/
//
// Waits until the page says it is connected, its table has a row per symbol and it has updated at least
// twice, then prints `ok live` and waits for the server to go away (the test stops it): the page must say
// it is reconnecting (`ok reconnecting`). Then, once the server is back on the same port, the page must
// reconnect by itself and update again. Saves `ticker.png` and `ticker-reconnected.png`. Prints
// `browser_ticker: all checks passed` at the end; exits non-zero otherwise.
'use strict';

const { TIMEOUT_MS, withBrowser, newPage, screenshot } = require('./browser');

// The symbols the example publishes.
const SYMBOLS = ['ACME', 'BOLT', 'CRUX', 'DYNE', 'ECHO'];
// The example publishes twice a second: two updates must come well within this.
const UPDATES_MS = 5000;

async function main(url) {
  await withBrowser('browser_ticker', 3 * TIMEOUT_MS, async (context) => {
    const page = await newPage(context, 'ticker');
    const state = () => page.$eval('#state', (el) => ({ state: el.dataset.state, text: el.textContent }));
    const count = () => page.$eval('#updates', (el) => Number(el.dataset.count));
    const table = () => page.$$eval('#prices tbody tr', (rows) => rows.map((tr) => [...tr.cells].slice(0, 3).map((td) => td.textContent)));
    const waitForState = async (wanted) => {
      try {
        await page.waitForFunction((wanted) => document.getElementById('state').dataset.state === wanted, wanted);
      } catch (err) {
        throw new Error(`state never ${wanted}: ${JSON.stringify(await state())}: ${err.message}`);
      }
      return state();
    };
    // Two more updates than `seen`, within UPDATES_MS; returns the table before and after.
    const twoUpdates = async (label) => {
      const seen = await count();
      const before = await table();
      try {
        await page.waitForFunction((seen) => Number(document.getElementById('updates').dataset.count) >= seen + 2, seen, { timeout: UPDATES_MS });
      } catch (err) {
        throw new Error(`${label}: fewer than two updates in ${UPDATES_MS} ms after ${seen}: ${err.message}`);
      }
      const after = await table();
      console.log(`ok ${label}: updates ${seen} -> ${await count()}, table ${JSON.stringify(after)}`);
      return [before, after];
    };

    await page.goto(url);
    console.log(`ok connected: ${JSON.stringify(await waitForState('open'))}`);
    await page.waitForFunction((n) => document.querySelectorAll('#prices tbody tr').length === n, SYMBOLS.length);
    const [, rows] = await twoUpdates('live');
    const symbols = rows.map((row) => row[0]);
    if (JSON.stringify(symbols) !== JSON.stringify(SYMBOLS)) throw new Error(`symbols ${JSON.stringify(symbols)}`);
    for (const [symbol, price, change] of rows) {
      if (!/^\d+\.\d\d$/.test(price) || !/^[+-]?\d+\.\d\d %$/.test(change)) {
        throw new Error(`${symbol}: price ${JSON.stringify(price)}, change ${JSON.stringify(change)}`);
      }
    }
    await screenshot(page, 'ticker.png');
    console.log('ok live');

    // The test stops the server now.
    const lost = await waitForState('reconnecting');
    if (!(await page.$eval('#prices', (t) => t.classList.contains('stale')))) throw new Error('the table is not marked stale');
    console.log(`the page after the server went away: ${JSON.stringify(lost)}`);
    console.log('ok reconnecting');

    // And starts it again on the same port.
    console.log(`ok connected again: ${JSON.stringify(await waitForState('open'))}`);
    await twoUpdates('updating again');
    if (await page.$eval('#prices', (t) => t.classList.contains('stale'))) throw new Error('the table is still marked stale');
    await screenshot(page, 'ticker-reconnected.png');
  });
}

if (process.argv.length !== 3) {
  console.error('usage: browser_ticker.js http://host:port/');
  process.exit(2);
}
main(process.argv[2]);
