"""Echo server for the interop test: the `websockets` package as a real peer.

Binds 127.0.0.1 on an ephemeral port, prints the port on one line, and echoes every
message. permessage-deflate is on by default in websockets (window bits 12 both ways).
Exits when stdin closes, so it cannot outlive the test even if the kill is missed.
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(websocket):
    async for message in websocket:
        await websocket.send(message)


async def main():
    async with serve(echo, "127.0.0.1", 0, max_size=16 * 1024 * 1024) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        loop = asyncio.get_running_loop()
        # Returns when the test closes our stdin (or dies).
        await loop.run_in_executor(None, sys.stdin.read)


asyncio.run(main())
