"""Python `websockets` server for our client: python3 server.py

Listens on 127.0.0.1:0, prints {"port": N}, then one JSON line per finished
connection: {"path", "close_code", "close_reason", ...}. The behaviour depends
on the request path. Exits when stdin closes (so it never outlives the test).
"""
import asyncio
import hashlib
import os
import sys

import websockets
from websockets.frames import Opcode

from common import MiB, emit, text_of


async def handler(ws, path=None):
    path = ws.path
    info = {"path": path}
    try:
        kind = path.split("/")[1]
        if kind == "frag":
            text = text_of(100000)
            await ws.send([text[:3], "", text[3:65536], text[65536:]])
            blob = os.urandom(2 * MiB + 3)
            await ws.send([blob[i:i + 100000] for i in range(0, len(blob), 100000)])
            # the Node side hashes what it reassembled and compares
            emit({"path": path, "frag_sha256": [hashlib.sha256(text.encode()).hexdigest(), hashlib.sha256(blob).hexdigest()]})
        elif kind == "ping":
            waiter = await ws.ping(b"py-server-ping")
            await asyncio.wait_for(waiter, 5)
            await ws.send("pong-received")
        elif kind == "close4000":
            await ws.close(4000, "py app close")
        elif kind == "big":
            await ws.send(os.urandom(int(path.split("/")[2])))
        elif kind == "badutf8":
            await ws.write_frame(True, Opcode.TEXT, bytes.fromhex("48656c6c6fc0af"))
        async for msg in ws:  # echo everything else (and after the above)
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    finally:
        await ws.wait_closed()
        info.update({"close_code": ws.close_code, "close_reason": ws.close_reason})
        emit(info)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, ping_interval=None, close_timeout=5) as server:
        emit({"port": server.sockets[0].getsockname()[1], "websockets": websockets.__version__})
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin


if __name__ == "__main__":
    asyncio.run(main())
