"""Python `websockets` client against our server: python3 client.py SCENARIO URL [ARGS].

Prints one JSON object per line; the last line is {"done": ...}. Exit code 0
unless the script itself broke (assertions are made by the Node test).
"""
import asyncio
import os
import sys

import websockets
from websockets.frames import Opcode

from common import SIZES, MiB, emit, first_diff, text_of


def closed_info(ws):
    return {"code": ws.close_code, "reason": ws.close_reason}


async def echo(url):
    async with websockets.connect(url, max_size=None, ping_interval=None, open_timeout=5, close_timeout=5) as ws:
        emit({"extensions": [type(e).__name__ for e in ws.extensions], "subprotocol": ws.subprotocol})
        for kind in ("binary", "text"):
            for size in SIZES:
                sent = os.urandom(size) if kind == "binary" else text_of(size)
                await ws.send(sent)
                got = await asyncio.wait_for(ws.recv(), 20)
                type_ok = isinstance(got, bytes) if kind == "binary" else isinstance(got, str)
                emit({"case": "%s %d" % (kind, size), "type_ok": type_ok, "diff": first_diff(got, sent) if type_ok else "wrong type"})
        await ws.close(1000, "py done")
    emit({"done": closed_info(ws)})


async def frag(url):
    async with websockets.connect(url, max_size=None, ping_interval=None, open_timeout=5, close_timeout=5) as ws:
        text = text_of(200000)
        parts = [text[:1], text[1:50], "", text[50:70000], text[70000:]]
        await ws.send(parts)  # one text message in 5 frames (one of them empty)
        got = await asyncio.wait_for(ws.recv(), 10)
        emit({"case": "text fragments", "type_ok": isinstance(got, str), "diff": first_diff(got, text)})
        blob = os.urandom(3 * MiB + 5)

        async def chunks():
            for i in range(0, len(blob), 65536):
                yield blob[i:i + 65536]
        await ws.send(chunks())  # one binary message in 49 frames
        got = await asyncio.wait_for(ws.recv(), 10)
        emit({"case": "binary fragments", "type_ok": isinstance(got, bytes), "diff": first_diff(got, blob)})
        await ws.close(1000)
    emit({"done": closed_info(ws)})


async def ping(url):
    async with websockets.connect(url, ping_interval=None, open_timeout=5, close_timeout=5) as ws:
        waiter = await ws.ping(b"py-ping")
        await asyncio.wait_for(waiter, 5)
        emit({"pong": "py-ping"})
        # our server pings too (path /ping...): websockets answers automatically;
        # the server then says "done".
        msg = await asyncio.wait_for(ws.recv(), 5)
        emit({"message": msg})
        await ws.close(1000)
    emit({"done": closed_info(ws)})


async def close(url, code, reason):
    async with websockets.connect(url, ping_interval=None, open_timeout=5, close_timeout=5) as ws:
        await ws.close(int(code), reason)
    emit({"done": closed_info(ws)})


async def wait_close(url, *send):
    ws = await websockets.connect(url, ping_interval=None, open_timeout=5, close_timeout=5)
    try:
        if send and send[0] == "big":
                await ws.send(os.urandom(int(send[1])))
        elif send and send[0] == "badutf8":
            await ws.write_frame(True, Opcode.TEXT, bytes.fromhex(send[1]))
        await asyncio.wait_for(ws.wait_closed(), 5)
    finally:
        await ws.close()
    emit({"done": closed_info(ws)})


SCENARIOS = {"echo": echo, "frag": frag, "ping": ping, "close": close, "wait-close": wait_close}

if __name__ == "__main__":
    emit({"websockets": websockets.__version__})
    asyncio.run(asyncio.wait_for(SCENARIOS[sys.argv[1]](*sys.argv[2:]), 60))
