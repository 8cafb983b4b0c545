"""The WebSocket benchmark's load client (bench/ws.py): a few processes (one per core),
each an asyncio loop holding thousands of ``websockets`` client sockets, driven over a
pipe by the benchmark; and one raw socket that never reads (the slow reader).

A pushed event that carries ``sentAt`` (epoch seconds, stamped by the publisher just
before it published) counts as a delivery; its latency is the arrival time minus
``sentAt`` (one machine, one clock).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import multiprocessing
import multiprocessing.connection
import os
import socket
import struct
import time
from array import array
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

Spec = tuple[str, str]  # (token, userId) of one socket
OPEN_TIMEOUT_S = 30.0
OPEN_TRIES = 3


# -- one load-client process ---------------------------------------------------------------


@dataclass
class LoadClient:
    """The sockets of one process and what they received."""

    deflate: bool
    sockets: list[ClientConnection] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    latencies: array[float] = field(default_factory=lambda: array("d"))
    arrivals: array[float] = field(default_factory=lambda: array("d"))
    kinds: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    closing: bool = False

    async def open(self, url: str, specs: list[Spec], concurrency: int) -> dict[str, Any]:
        t0 = time.monotonic()
        sem = asyncio.Semaphore(concurrency)
        failed: Counter[str] = Counter()

        async def one(spec: Spec) -> None:
            async with sem:
                for attempt in range(OPEN_TRIES):
                    try:
                        ws = await self._connect(url, spec)
                    except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
                        why = type(exc).__name__
                        if isinstance(exc, ConnectionClosed) and exc.rcvd is not None:
                            why = f"closed {exc.rcvd.code} {exc.rcvd.reason[:40]}"
                        if attempt == OPEN_TRIES - 1:
                            failed[why] += 1
                        await asyncio.sleep(0.2 * (attempt + 1))
                        continue
                    self.sockets.append(ws)
                    self.readers.append(asyncio.create_task(self._read(ws)))
                    return

        await asyncio.gather(*(one(spec) for spec in specs))
        # The sockets live for the whole run: keep the collector's full passes off them,
        # or this client's own pauses (0.5 s at 5,000 sockets) read as push latency.
        gc.collect()
        gc.freeze()
        return {
            "opened": len(specs) - sum(failed.values()),
            "failed": dict(failed),
            "seconds": time.monotonic() - t0,
        }

    async def _connect(self, url: str, spec: Spec) -> ClientConnection:
        """Open, authenticate with the first message (the browser way), wait for ready."""
        token, user_id = spec
        ws = await connect(
            url,
            open_timeout=OPEN_TIMEOUT_S,
            compression="deflate" if self.deflate else None,
            ping_interval=None,  # the server pings; the library answers on its own
            close_timeout=2,
            max_size=2**20,
            proxy=None,
            user_agent_header=None,
        )
        try:
            await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
            async with asyncio.timeout(OPEN_TIMEOUT_S):
                first = orjson.loads(await ws.recv())
            if first.get("type") != "ready" or first.get("userId") != user_id:
                raise InvalidHandshake(f"expected ready, got {str(first)[:80]}")
        except BaseException:
            await ws.close()
            raise
        return ws

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                now = time.time()
                event = orjson.loads(message)
                sent_at = event.get("sentAt")
                if sent_at is not None:
                    self.latencies.append(now - sent_at)
                    self.arrivals.append(now)
                else:
                    self.kinds[str(event.get("type"))] += 1
        except ConnectionClosed:
            pass
        if not self.closing:
            rcvd = ws.protocol.close_rcvd
            self.closes["1006" if rcvd is None else f"{rcvd.code} {rcvd.reason[:60]}"] += 1

    def collect(self) -> dict[str, Any]:
        """What arrived since the last collect (then forget it)."""
        out = {
            "latencies": self.latencies.tobytes(),
            "arrivals": self.arrivals.tobytes(),
            "kinds": dict(self.kinds),
            "closes": dict(self.closes),
            "open": sum(1 for ws in self.sockets if ws.close_code is None),
        }
        self.latencies, self.arrivals = array("d"), array("d")
        self.kinds.clear()
        self.closes.clear()
        return out

    async def close_all(self) -> dict[str, Any]:
        self.closing = True
        sem = asyncio.Semaphore(256)

        async def one(ws: ClientConnection) -> None:
            async with sem:
                try:
                    await ws.close()
                except (OSError, ConnectionClosed):
                    pass

        t0 = time.monotonic()
        await asyncio.gather(*(one(ws) for ws in self.sockets))
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        closed = len(self.sockets)
        self.sockets, self.readers = [], []
        self.closing = False
        return {"closed": closed, "seconds": time.monotonic() - t0}


async def _serve(conn: multiprocessing.connection.Connection, deflate: bool) -> None:
    client = LoadClient(deflate)
    loop = asyncio.get_running_loop()
    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        if command == "open":
            conn.send(await client.open(*args))
        elif command == "collect":
            conn.send(client.collect())
        elif command == "close":
            conn.send(await client.close_all())
        else:
            await client.close_all()
            conn.send({"stopped": True})
            return


def client_process(conn: multiprocessing.connection.Connection, deflate: bool) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_serve(conn, deflate))


# -- the pool the benchmark drives ---------------------------------------------------------


class ClientPool:
    """``count`` load-client processes; each command goes to all of them at once."""

    def __init__(self, count: int, *, deflate: bool) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[multiprocessing.connection.Connection] = []
        self.procs: list[multiprocessing.process.BaseProcess] = []
        for i in range(count):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=client_process, args=(theirs, deflate), name=f"ws-load-{i}", daemon=True
            )
            proc.start()
            theirs.close()
            self.pipes.append(ours)
            self.procs.append(proc)
        self._threads = ThreadPoolExecutor(max_workers=count)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    async def _call(
        self, pipe: multiprocessing.connection.Connection, command: tuple[Any, ...]
    ) -> Any:
        loop = asyncio.get_running_loop()
        pipe.send(command)
        return await loop.run_in_executor(self._threads, pipe.recv)

    async def open(self, url: str, specs: list[Spec], concurrency: int = 48) -> dict[str, Any]:
        """Spread ``specs`` over the processes (round robin) and open them all."""
        n = len(self.pipes)
        replies = await asyncio.gather(
            *(
                self._call(pipe, ("open", url, specs[i::n], concurrency))
                for i, pipe in enumerate(self.pipes)
            )
        )
        failed: Counter[str] = Counter()
        for reply in replies:
            failed.update(reply["failed"])
        return {
            "opened": sum(r["opened"] for r in replies),
            "failed": dict(failed),
            "seconds": max(r["seconds"] for r in replies),
        }

    async def collect(self) -> dict[str, Any]:
        replies = await asyncio.gather(*(self._call(p, ("collect",)) for p in self.pipes))
        latencies, arrivals = array("d"), array("d")
        kinds: Counter[str] = Counter()
        closes: Counter[str] = Counter()
        for reply in replies:
            latencies.frombytes(reply["latencies"])
            arrivals.frombytes(reply["arrivals"])
            kinds.update(reply["kinds"])
            closes.update(reply["closes"])
        return {
            "latencies": latencies,
            "arrivals": arrivals,
            "kinds": dict(kinds),
            "closes": dict(closes),
            "open": sum(r["open"] for r in replies),
        }

    async def close_sockets(self) -> float:
        replies = await asyncio.gather(*(self._call(p, ("close",)) for p in self.pipes))
        return float(max(r["seconds"] for r in replies))

    def stop(self) -> None:
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            try:
                pipe.send(("stop",))
                if pipe.poll(20):
                    pipe.recv()
            except (OSError, EOFError):
                pass
            proc.join(5)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        self._threads.shutdown(wait=False)


# -- the slow reader -----------------------------------------------------------------------


@dataclass
class Frames:
    """What a drained socket held: text frames, the close frame, whether it ended."""

    texts: int = 0
    text_bytes: int = 0
    close_code: int | None = None
    close_reason: str = ""
    eof: bool = False
    pending: bytes = b""


def _client_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One masked client frame (RFC 6455 5.2)."""
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def parse_frames(data: bytes, into: Frames) -> None:
    """Consume the complete server frames at the start of ``into.pending + data``."""
    buf = into.pending + data
    pos = 0
    while len(buf) - pos >= 2:
        opcode, n = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
        start = pos + 2
        if n == 126:
            if len(buf) - start < 2:
                break
            (n,) = struct.unpack_from("!H", buf, start)
            start += 2
        elif n == 127:
            if len(buf) - start < 8:
                break
            (n,) = struct.unpack_from("!Q", buf, start)
            start += 8
        if len(buf) - start < n:
            break
        payload = buf[start : start + n]
        if opcode == 0x1:
            into.texts += 1
            into.text_bytes += n
        elif opcode == 0x8:
            into.close_code = struct.unpack("!H", payload[:2])[0] if n >= 2 else 1005
            into.close_reason = payload[2:].decode(errors="replace")
        pos = start + n
    into.pending = buf[pos:]


class SlowReader:
    """A WebSocket (plain socket, tiny receive buffer) that authenticates, reads its
    ``ready`` frame and then reads nothing at all until ``drain``."""

    def __init__(self, url: str, token: str, rcvbuf: int = 4096) -> None:
        self.url = urlsplit(url)
        self.token = token
        self.rcvbuf = rcvbuf
        self.sock: socket.socket | None = None
        self.frames = Frames()
        self.local_port = 0

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # before connect, so the advertised window stays small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        sock.setblocking(False)
        host, port = self.url.hostname or "127.0.0.1", self.url.port or 80
        await loop.sock_connect(sock, (host, port))
        self.sock = sock
        self.local_port = sock.getsockname()[1]
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {self.url.path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 15)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        status, rest = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in status.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"handshake refused: {status[:100]!r}")
        auth = orjson.dumps({"type": "auth", "token": self.token})
        await loop.sock_sendall(sock, _client_frame(auth))
        parse_frames(rest, self.frames)
        while self.frames.texts == 0:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 15)
            if not chunk:
                raise ConnectionError("closed before ready")
            parse_frames(chunk, self.frames)
        self.frames = Frames(pending=self.frames.pending)  # count only what follows

    async def drain(self, limit_s: float) -> Frames:
        """Read everything the server still has for us, for at most ``limit_s``
        (until a close frame and end of stream, or silence for 2 s)."""
        assert self.sock is not None
        loop = asyncio.get_running_loop()
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            try:
                chunk = await asyncio.wait_for(loop.sock_recv(self.sock, 1 << 16), 2.0)
            except TimeoutError:
                break
            except OSError:
                self.frames.eof = True
                break
            if not chunk:
                self.frames.eof = True
                break
            parse_frames(chunk, self.frames)
        return self.frames

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
