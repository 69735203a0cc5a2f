"""The Python `websockets` package as a peer for `ws serve` and `ws connect`.

    peer.py server        echo server on 127.0.0.1, an ephemeral port printed on one line;
                          exits when stdin closes, so it cannot outlive the test
    peer.py client URL    sends text (short, long and compressible) and binary messages,
                          checks each echo and that permessage-deflate was negotiated,
                          prints "ok" and the negotiated extension

permessage-deflate is on by default in websockets, on both sides.
"""

import asyncio
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

MAX_SIZE = 16 * 1024 * 1024
TIMEOUT = 20


async def echo(websocket):
    async for message in websocket:
        await websocket.send(message)


async def server():
    async with serve(echo, "127.0.0.1", 0, max_size=MAX_SIZE) as running:
        print(running.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def client(url):
    async with connect(url, max_size=MAX_SIZE) as websocket:
        extensions = websocket.response.headers.get("Sec-WebSocket-Extensions", "")
        if "permessage-deflate" not in extensions:
            sys.exit(f"permessage-deflate not negotiated: {extensions!r}")
        messages = [
            "hello",
            "",
            '{"id":1,"user":"alpha","tags":["x","y"]},' * 4000,
            bytes(range(256)) * 512,
            "last",
        ]
        for message in messages:
            await websocket.send(message)
            reply = await asyncio.wait_for(websocket.recv(), TIMEOUT)
            if reply != message:
                sys.exit(f"echo of a {len(message)}-long message differs")
    print("ok", extensions, flush=True)


def main():
    if sys.argv[1:2] == ["server"]:
        asyncio.run(server())
    elif len(sys.argv) == 3 and sys.argv[1] == "client":
        asyncio.run(asyncio.wait_for(client(sys.argv[2]), TIMEOUT))
    else:
        sys.exit(__doc__)


main()
