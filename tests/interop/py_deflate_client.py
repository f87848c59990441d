"""Interop client on Python `websockets` with permessage-deflate on (its default): checks that the echo server
negotiates the extension and echoes messages of many sizes, compressible and not, whole and fragmented.

    python py_deflate_client.py ws://127.0.0.1:9001/

Prints one `ok <check>` line per check and `py_deflate_client: all checks passed` at the end.
"""

import asyncio
import random
import sys

from websockets.asyncio.client import connect

TIMEOUT = 30
SIZES = [0, 1, 31, 32, 125, 126, 1000, 4096, 65535, 65536, 100_000, 1 << 20]


def fail(what):
    print(f"FAIL {what}", flush=True)
    sys.exit(1)


async def main(url):
    async with asyncio.timeout(TIMEOUT):
        ws = await connect(url, max_size=None, open_timeout=TIMEOUT)  # compression="deflate" by default
    extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
    if not extensions.startswith("permessage-deflate"):
        fail(f"permessage-deflate not negotiated: {extensions!r}")
    print(f"ok negotiated {extensions}", flush=True)
    rng = random.Random(6455)
    words = ["wslane", "deflate", "window", "frame", "message", "\u00e9t\u00e9", "\u2713", "context"]
    for size in SIZES:
        text = "".join(rng.choice(words) + " " for _ in range(size // 4 + 1))[:size]
        noise = rng.randbytes(size)
        for name, message in [("text", text), ("random binary", noise), ("zeros", bytes(size))]:
            await ws.send(message)
            got = await asyncio.wait_for(ws.recv(), TIMEOUT)
            if got != message:
                fail(f"{name} of {size}: echo differs ({len(got)} bytes back)")
        print(f"ok echo of {size} bytes (text, random, zeros)", flush=True)
    # A fragmented compressed message: RSV1 on the first frame only.
    parts = [words[i % len(words)] * 50 for i in range(20)]
    await ws.send(parts)
    if await asyncio.wait_for(ws.recv(), TIMEOUT) != "".join(parts):
        fail("fragmented compressed text")
    print("ok fragmented compressed text", flush=True)
    await ws.close(4000, "deflate done")
    if ws.protocol.close_rcvd is None or ws.protocol.close_rcvd.code != 4000:
        fail(f"close answered with {ws.protocol.close_rcvd}")
    print("ok close 4000", flush=True)
    print("py_deflate_client: all checks passed", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
