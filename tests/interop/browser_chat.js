// Interop with a browser: Chromium's own WebSocket client, through the chat example's page.
//
//     WSLANE_INTEROP_CHROMIUM=/usr/bin/chromium node browser_chat.js http://127.0.0.1:8080/ [chat.png]
//     WSLANE_INTEROP_CHROMIUM=/usr/bin/chromium node browser_chat.js https://127.0.0.1:8080/ chat-tls.png
//     WSLANE_INTEROP_CHROMIUM=/usr/bin/chromium node browser_chat.js http://127.0.0.1:8080/ chat-redis.png \
//         http://127.0.0.1:8081/
//
// Opens the page twice, waits until both pages are connected and the second one's join notice reached both,
// sends one message from each page, and checks that both messages appear on both pages. Also checks what a
// person notices: each page shows its own name, and the two names are consecutive guest numbers (loading
// a page takes none); the icon is served and no request of either page got a 404. Saves the screenshot
// (default `chat.png`). Over `https://` the server's certificate is self-signed (the chat makes one at
// start) and Chromium is told to accept it; each page must then have loaded over HTTP/2 (ALPN `h2`), so
// that its WebSocket can be a stream of the same connection (RFC 8441), which only the server can tell.
// With a second URL, the second page opens there: another chat process sharing the rooms through Redis.
// Every check then crosses processes; the names must differ (each process numbers its own guests and
// tags them with the process, `guest-1@k7qx`) rather than be consecutive.
// Prints one `ok <check>` line per check and `browser_chat: all checks passed` at the end; exits non-zero
// otherwise.
//
// Chromium always offers permessage-deflate; the checks hold whichever way the chat example answers.
'use strict';

const { TIMEOUT_MS, withBrowser, newPage, screenshot } = require('./browser');

async function main(url, screenshotFile, otherUrl) {
  const tls = url.startsWith('https:');
  const notFound = [];
  await withBrowser('browser_chat', 3 * TIMEOUT_MS, async (context) => {
    const open = async (label, pageUrl) => {
      const page = await newPage(context, label);
      page.on('response', (r) => { if (r.status() === 404) notFound.push(r.url()); });
      await page.goto(pageUrl);
      await page.waitForFunction(() => document.getElementById('status').textContent === 'connected');
      // The server tells each connection its name, and the page shows it.
      await page.waitForFunction(() => /^guest-\d+(@[a-z0-9]+)?$/.test(document.getElementById('me').textContent));
      const name = await page.textContent('#me');
      console.log(`ok ${label} connected as ${name}`);
      if (tls) {
        const protocol = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
        if (protocol !== 'h2') throw new Error(`${label} loaded over ${JSON.stringify(protocol)}, expected h2`);
        console.log(`ok ${label} loaded over ${protocol}`);
      }
      return [page, name];
    };
    const lines = (page) => page.$$eval('#log li', (items) => items.map((li) => li.textContent));
    const waitForLine = async (page, label, line) => {
      try {
        await page.waitForFunction(
          (line) => [...document.querySelectorAll('#log li')].some((li) => li.textContent === line),
          line,
        );
      } catch (err) {
        throw new Error(`${label}: no line ${JSON.stringify(line)} in ${JSON.stringify(await lines(page))}: ${err.message}`);
      }
    };
    const send = async (page, text) => {
      await page.fill('#text', text);
      await page.click('#send');
    };

    const [one, nameOne] = await open('page one', url);
    // Loading the second page (and any icon request) between the two connections takes no number.
    const [two, nameTwo] = await open('page two', otherUrl || url);
    if (otherUrl) {
      if (nameOne === nameTwo) throw new Error(`both pages are ${nameOne}, on two processes`);
      console.log(`ok distinct names across processes: ${nameOne}, ${nameTwo}`);
    } else {
      const number = (name) => Number(name.slice('guest-'.length));
      if (number(nameTwo) !== number(nameOne) + 1) {
        throw new Error(`the pages are ${nameOne} and ${nameTwo}, expected consecutive guest numbers`);
      }
      console.log(`ok consecutive guest numbers: ${nameOne}, ${nameTwo}`);
    }
    // The second page's join notice reaches both pages (the first page also saw its own).
    for (const [page, label] of [[one, 'page one'], [two, 'page two']]) {
      await waitForLine(page, label, `${nameTwo} joined`);
    }
    const joins = (await lines(one)).filter((l) => / joined$/.test(l));
    if (joins.length < 2) throw new Error(`page one saw ${JSON.stringify(joins)}, expected two join notices`);
    console.log(`ok join notices on both pages: ${JSON.stringify(joins)}`);

    await send(one, 'hello from page one \u2713');
    await send(two, 'hello from page two \u{1f980}');
    for (const [page, label] of [[one, 'page one'], [two, 'page two']]) {
      await waitForLine(page, label, `${nameOne}: hello from page one \u2713`);
      await waitForLine(page, label, `${nameTwo}: hello from page two \u{1f980}`);
      console.log(`ok ${label} shows both messages: ${JSON.stringify(await lines(page))}`);
    }
    for (const [page, label] of [[one, 'page one'], [two, 'page two']]) {
      const status = await page.textContent('#status');
      if (status !== 'connected') throw new Error(`${label}: status ${JSON.stringify(status)} after the exchange`);
    }

    const icon = await one.evaluate(async () => {
      const response = await fetch('/favicon.ico');
      return { status: response.status, type: response.headers.get('content-type') };
    });
    if (icon.status !== 200 || !/^image\//.test(icon.type)) {
      throw new Error(`/favicon.ico: ${icon.status} ${icon.type}`);
    }
    console.log(`ok the icon is served: ${icon.status} ${icon.type}`);
    if (notFound.length > 0) throw new Error(`404 for ${JSON.stringify(notFound)}`);
    console.log('ok no request got a 404');
    await screenshot(one, screenshotFile);
  }, { ignoreCertificateErrors: tls });
}

if (process.argv.length < 3 || process.argv.length > 5) {
  console.error('usage: browser_chat.js http(s)://host:port/ [screenshot.png] [http(s)://other-host:port/]');
  process.exit(2);
}
main(process.argv[2], process.argv[3] || 'chat.png', process.argv[4]);
