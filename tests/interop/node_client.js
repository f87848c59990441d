// Interop client on Node `ws`: checks an echo server and exits non-zero on the first mismatch.
//
//     node node_client.js ws://127.0.0.1:9001/
//     node node_client.js --deflate ws://127.0.0.1:9001/
//
// Without --deflate, permessage-deflate is off: the checks are about the base protocol. With it, `ws` offers
// permessage-deflate and compresses every message (threshold 0, not its default of 1 KiB), the server must
// accept the extension, and the same checks run over compressed messages.
// Prints one `ok <check>` line per check and `node_client: all checks passed` at the end.
'use strict';

const WebSocket = require('ws');

// Every wait is bounded.
const TIMEOUT_MS = 20000;
const MIB = 1 << 20;

function fail(what) {
  console.log(`FAIL ${what}`);
  process.exit(1);
}

function describe({ data, isBinary }) {
  const kind = isBinary ? 'binary' : 'text';
  if (data.length > 40) return `${kind} of ${data.length} bytes`;
  return `${kind} ${JSON.stringify(isBinary ? [...data] : data.toString())}`;
}

/** Resolves with the socket's next event of `name`, failing after TIMEOUT_MS. */
function next(queue, what) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => fail(`${what}: nothing arrived in ${TIMEOUT_MS} ms`), TIMEOUT_MS);
    queue.push((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

async function main(url, deflate) {
  const messages = [];
  const pongs = [];
  const closes = [];
  const waiting = { message: [], pong: [], close: [] };
  const deliver = (name, store, value) => {
    const waiter = waiting[name].shift();
    if (waiter) waiter(value);
    else store.push(value);
  };
  const take = (name, store, what) =>
    store.length > 0 ? Promise.resolve(store.shift()) : next(waiting[name], what);

  const perMessageDeflate = deflate ? { threshold: 0 } : false;
  const ws = new WebSocket(url, { perMessageDeflate, handshakeTimeout: TIMEOUT_MS, maxPayload: 64 << 20 });
  ws.on('message', (data, isBinary) => deliver('message', messages, { data, isBinary }));
  ws.on('pong', (data) => deliver('pong', pongs, data));
  ws.on('close', (code, reason) => deliver('close', closes, { code, reason: reason.toString() }));
  ws.on('error', (err) => fail(`socket error: ${err.message}`));
  let upgrade;
  ws.once('upgrade', (response) => {
    upgrade = response;
  });
  await new Promise((resolve) => {
    const timer = setTimeout(() => fail('connect: timed out'), TIMEOUT_MS);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const negotiated = upgrade.headers['sec-websocket-extensions'] || '';
  if (deflate) {
    if (ws.extensions !== 'permessage-deflate') fail(`permessage-deflate not negotiated: ${JSON.stringify(negotiated)}`);
    console.log(`ok negotiated ${negotiated}`);
  } else if (negotiated !== '') {
    fail(`extensions negotiated though none were offered: ${JSON.stringify(negotiated)}`);
  }
  let payloadBytes = 0;

  async function echo(name, frames, expected) {
    for (const [i, frame] of frames.entries()) {
      ws.send(frame.data, { binary: expected.isBinary, fin: i === frames.length - 1 });
    }
    payloadBytes += expected.data.length;
    const got = await take('message', messages, name);
    if (got.isBinary !== expected.isBinary || !got.data.equals(expected.data)) {
      fail(`${name}: sent ${describe(expected)}, got ${describe(got)}`);
    }
    console.log(`ok ${name}`);
  }
  const text = (s) => ({ data: Buffer.from(s, 'utf8'), isBinary: false });
  const binary = (b) => ({ data: Buffer.from(b), isBinary: true });
  const whole = (name, value) => echo(name, [value], value);

  const big = Buffer.alloc(MIB);
  for (let i = 0; i < MIB; i++) big[i] = (i * 7) % 251;
  await whole('text', text('hello, wslane \u2713 \u{1f980}'));
  await whole('binary', binary([...Array(256).keys()]));
  await whole('empty text', text(''));
  await whole('empty binary', binary([]));
  await whole('1 MiB binary', binary(big));
  await whole('1 MiB text', text('\u00e9'.repeat(MIB / 2)));
  // Frames sent with fin: false make one fragmented message, reassembled by the server.
  await echo('fragmented text', [text('frag'), text('mented \u2713'), text('')], text('fragmented \u2713'));
  await echo(
    'fragmented binary',
    [binary([0, 1]), binary([]), binary(Buffer.alloc(1000, 2))],
    binary(Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(1000, 2)])),
  );

  if (deflate) {
    // Every payload above compresses well (repeated text, a byte pattern of period 251): when both sides
    // compress, far fewer bytes cross the connection than the messages hold, in each direction.
    const { bytesRead, bytesWritten } = upgrade.socket;
    if (bytesWritten * 4 > payloadBytes) fail(`sent ${bytesWritten} bytes for ${payloadBytes} bytes of messages`);
    if (bytesRead * 4 > payloadBytes) fail(`received ${bytesRead} bytes for ${payloadBytes} bytes of messages`);
    console.log(`ok compressed both ways: ${payloadBytes} bytes of messages, ${bytesWritten} sent, ${bytesRead} received`);
  }

  const payload = Buffer.from('wslane-ping\x00\xff', 'latin1');
  ws.ping(payload);
  const pong = await take('pong', pongs, 'ping');
  if (!pong.equals(payload)) fail(`ping: sent ${[...payload]}, pong carried ${[...pong]}`);
  console.log('ok ping answered by pong with the same payload');

  ws.close(4000, 'interop done');
  const closed = await take('close', closes, 'close');
  if (closed.code !== 4000) fail(`close: sent 4000, got ${closed.code} ${JSON.stringify(closed.reason)}`);
  console.log(`ok close 4000 answered with ${closed.code} ${JSON.stringify(closed.reason)}`);
  if (messages.length > 0) fail('close: a message arrived after the echoes');

  console.log('node_client: all checks passed');
}

const args = process.argv.slice(2);
const deflate = args[0] === '--deflate';
if (deflate) args.shift();
if (args.length !== 1 || args[0].startsWith('-')) {
  console.error('usage: node_client.js [--deflate] ws://host:port/path');
  process.exit(2);
}
main(args[0], deflate).catch((err) => fail(`unexpected error: ${err.stack || err}`));
