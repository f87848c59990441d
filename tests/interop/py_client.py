"""Interop client on Python `websockets`: checks an echo server and exits non-zero on the first mismatch.

    python py_client.py ws://127.0.0.1:9001/

Prints one `ok <check>` line per check and `py_client: all checks passed` at the end.
"""

import asyncio
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

# Every wait is bounded.
TIMEOUT = 20
MIB = 1 << 20


def fail(what):
    print(f"FAIL {what}", flush=True)
    sys.exit(1)


def describe(value):
    kind = "text" if isinstance(value, str) else "binary"
    if len(value) > 40:
        return f"{kind} of {len(value)} bytes"
    return f"{kind} {value!r}"


async def echo(ws, name, sent, expected=None):
    expected = sent if expected is None else expected
    await ws.send(sent)
    got = await asyncio.wait_for(ws.recv(), TIMEOUT)
    if type(got) is not type(expected) or got != expected:
        fail(f"{name}: sent {describe(expected)}, got {describe(got)}")
    print(f"ok {name}", flush=True)


async def main(url):
    # compression=None: these checks are about the base protocol; compression has its own checks
    # (py_deflate_client.py, py_deflate_server.py). max_size=None: the client's own 1 MiB default would refuse
    # the 1 MiB text echo.
    async with asyncio.timeout(TIMEOUT):
        ws = await connect(url, compression=None, max_size=None, open_timeout=TIMEOUT)
    await echo(ws, "text", "hello, wslane \u2713 \U0001f980")
    await echo(ws, "binary", bytes(range(256)))
    await echo(ws, "empty text", "")
    await echo(ws, "empty binary", b"")
    await echo(ws, "1 MiB binary", bytes(i * 7 % 251 for i in range(MIB)))
    await echo(ws, "1 MiB text", "\u00e9" * (MIB // 2))
    # An iterable is sent as one fragmented message: continuation frames, reassembled by the server.
    await echo(ws, "fragmented text", ["frag", "mented \u2713", ""], "fragmented \u2713")
    await echo(ws, "fragmented binary", [b"\x00\x01", b"", b"\x02" * 1000], b"\x00\x01" + b"\x02" * 1000)

    # websockets resolves a ping's waiter only on a pong whose payload equals the ping's: a pong with
    # another payload leaves it pending and this times out.
    waiter = await ws.ping(b"wslane-ping\x00\xff")
    try:
        await asyncio.wait_for(waiter, TIMEOUT)
    except asyncio.TimeoutError:
        fail("ping: no pong with the ping's payload")
    print("ok ping answered by pong with the same payload", flush=True)

    await asyncio.wait_for(ws.close(code=4000, reason="interop done"), TIMEOUT)
    received = ws.protocol.close_rcvd
    if received is None:
        fail("close: no close frame came back")
    if received.code != 4000:
        fail(f"close: sent 4000, got {received.code} {received.reason!r}")
    print(f"ok close 4000 answered with {received.code} {received.reason!r}", flush=True)
    try:
        await asyncio.wait_for(ws.recv(), TIMEOUT)
        fail("close: a message arrived after the close")
    except ConnectionClosed as closed:
        if closed.rcvd is None or closed.rcvd.code != 4000:
            fail(f"close: connection ended with {closed!r}")

    print("py_client: all checks passed", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: py_client.py ws://host:port/path")
    asyncio.run(main(sys.argv[1]))
