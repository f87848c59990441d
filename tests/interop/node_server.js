// Interop echo server on Node `ws`: echoes text as text and binary as binary, except that the text
// `close-me <code> <reason>` makes it close the connection with that code and reason.
//
//     node node_server.js [port]       # default 0: any free port
//
// Prints `listening on ws://127.0.0.1:<port>/` once it accepts connections, then one line per connection
// that ends: `closed <code> <reason>` with the close frame the client sent or answered (`closed none`
// without one).
'use strict';

const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 0);
// perMessageDeflate: false: these checks are about the base protocol; permessage-deflate interop is a later
// issue (the peers keep it off until then). Pings are answered automatically with the same payload
// (autoPong), and a client's close is answered with its own code and reason.
const server = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: false,
  maxPayload: 64 << 20,
});

server.on('listening', () => {
  console.log(`listening on ws://127.0.0.1:${server.address().port}/`);
});

server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    if (text.startsWith('close-me ')) {
      const [, code, ...reason] = text.split(' ');
      ws.close(Number(code), reason.join(' '));
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
  ws.on('error', (err) => console.error(`connection error: ${err.message}`));
  ws.on('close', (code, reason) => {
    // 1005: the close frame had no code; 1006: there was no close frame.
    if (code === 1006) console.log('closed none');
    else console.log(`closed ${code} ${reason.toString()}`);
  });
});

server.on('error', (err) => {
  console.error(`node_server: ${err.message}`);
  process.exit(1);
});
