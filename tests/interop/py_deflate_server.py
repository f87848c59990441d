"""Interop echo server on Python `websockets` with permessage-deflate on (its default settings: it answers
with server_max_window_bits=12 and client_max_window_bits=12 when the client allows it).

    python py_deflate_server.py [port]       # default 0: any free port

Prints `listening on ws://127.0.0.1:<port>/`, then `negotiated <extensions>` for each connection.
"""

import asyncio
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def echo(ws):
    print(f"negotiated {ws.response.headers.get('Sec-WebSocket-Extensions', 'nothing')}", flush=True)
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


async def main(port):
    async with serve(echo, "127.0.0.1", port, max_size=None, ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}/", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
