// The WebSocket client page the echo server examples serve on `/`, in Chromium.
//
//     WSLANE_INTEROP_CHROMIUM=/usr/bin/chromium node browser_client.js http://127.0.0.1:9001/ client-tokio
//
// Checks that the page's URL field points back at the server it came from; connects (an `open` event);
// sends text and sees it come back (a `message` event); disconnects with 1000 and sees the `close` event
// with the server's answer (code 1000, a clean close); no `error` event on the way. Saves `<name>.png`.
// Prints `ok <check>` lines and `browser_client: all checks passed`; exits non-zero otherwise.
'use strict';

const { TIMEOUT_MS, withBrowser, newPage, screenshot } = require('./browser');

async function main(url, name) {
  await withBrowser('browser_client', 3 * TIMEOUT_MS, async (context) => {
    const page = await newPage(context, 'client');
    const events = () => page.$$eval('#log li', (items) => items.map((li) => [li.dataset.event, li.textContent]));
    // The first log entry of `kind` whose text contains `part`.
    const waitForEvent = async (kind, part) => {
      try {
        await page.waitForFunction(
          ([kind, part]) => [...document.querySelectorAll('#log li')].some((li) => li.dataset.event === kind && li.textContent.includes(part)),
          [kind, part],
        );
      } catch (err) {
        throw new Error(`no ${kind} event with ${JSON.stringify(part)} in ${JSON.stringify(await events())}: ${err.message}`);
      }
    };
    const state = () => page.textContent('#state');

    await page.goto(url);
    const expected = `ws://${new URL(url).host}/`;
    const field = await page.inputValue('#url');
    if (field !== expected) throw new Error(`the URL field is ${JSON.stringify(field)}, expected ${JSON.stringify(expected)}`);
    console.log(`ok the URL field points back: ${field}`);

    await page.click('#connect');
    await waitForEvent('open', '');
    if ((await state()) !== 'OPEN') throw new Error(`state ${await state()} after open`);
    console.log('ok open');

    const text = 'hello from Chromium \u2713 \u{1f980}';
    await page.fill('#text', text);
    await page.click('#send');
    await waitForEvent('message', `message: ${text}`);
    console.log('ok the echo arrived as a message event');

    await page.fill('#code', '1000');
    await page.fill('#reason', 'bye');
    await page.click('#disconnect');
    await waitForEvent('close', 'code 1000');
    await waitForEvent('close', 'wasClean true');
    if ((await state()) !== 'CLOSED') throw new Error(`state ${await state()} after close`);
    const log = await events();
    if (log.some(([kind]) => kind === 'error')) throw new Error(`an error event: ${JSON.stringify(log)}`);
    const kinds = log.map(([kind]) => kind).join(' ');
    if (kinds !== 'open sent message close') throw new Error(`events ${kinds}, expected open sent message close`);
    console.log(`ok close: ${JSON.stringify(log[log.length - 1][1])}`);
    await screenshot(page, `${name}.png`);
  });
}

if (process.argv.length !== 4) {
  console.error('usage: browser_client.js http://host:port/ screenshot-name');
  process.exit(2);
}
main(process.argv[2], process.argv[3]);
