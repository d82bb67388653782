"""Helpers shared by the Python peers (stdlib + Debian's python3-websockets only)."""
import json
import os
import sys

MiB = 1024 * 1024
SIZES = [0, 1, 125, 126, 65535, 65536, MiB]  # see PY_SIZES in interop-python.test.mjs
PRINTABLE = bytes(0x20 + (i % 95) for i in range(256))
MULTI = "é€😀".encode()  # 2 + 3 + 4 bytes


def text_of(size):
    """Random valid UTF-8 text of exactly `size` bytes, with multi-byte characters."""
    buf = bytearray(os.urandom(size).translate(PRINTABLE))
    step = 997
    for off in range(0, size - len(MULTI), step):
        at = off + (buf[off] % (step - len(MULTI))) if off + step <= size else off
        if at + len(MULTI) <= size:
            buf[at:at + len(MULTI)] = MULTI
    return buf.decode("utf-8")


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def first_diff(a, b):
    if a == b:
        return None
    if len(a) != len(b):
        return "length %d != expected %d" % (len(a), len(b))
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "first difference at index %d" % i
    return None
