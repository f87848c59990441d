"""Interop echo server on Python `websockets`: echoes text as text and binary as binary, except that the text
`close-me <code> <reason>` makes it close the connection with that code and reason.

    python py_server.py [port]       # default 0: any free port

Prints `listening on ws://127.0.0.1:<port>/` once it accepts connections, then one line per connection that
ends: `closed <code> <reason>` with the close frame the client sent or answered (`closed none` without one).
"""

import asyncio
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def echo(ws):
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith("close-me "):
                _, code, reason = message.split(" ", 2)
                await ws.close(int(code), reason)
                break
            await ws.send(message)
    except ConnectionClosed:
        pass
    received = ws.protocol.close_rcvd
    if received is None:
        print("closed none", flush=True)
    else:
        print(f"closed {received.code} {received.reason}", flush=True)


async def main(port):
    # compression=None: these checks are about the base protocol; compression has its own checks
    # (py_deflate_client.py, py_deflate_server.py). max_size=None: large echoes are limited by the client under
    # test, not here. Pings are answered automatically with the same payload, and a client's close is
    # answered with its own code and reason.
    async with serve(echo, "127.0.0.1", port, compression=None, max_size=None, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}/", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
