"""A TCP proxy that damages a device's answers on their way to the host.

End-to-end fault injection: pyserial connects to ``proxy.url`` (socket://)
and the proxy connects to the device's TCP serial port (QEMU's, or the
host-native server's). Requests pass through untouched; the answers are cut
into frames at their 0x00 delimiters and each frame may be bit-flipped,
dropped, duplicated or delayed, as a ``policy`` decides. Delayed frames are
sent later from a timer, so they can arrive after the host's retry, out of
order, like a slow or congested line.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable

from tinycompress.link.frame import Frame, FrameError, decode_frame
from tinycompress.link.protocol import ANSWER_BIT, Command, Status

INVOKE_ANSWER = Command.INVOKE | ANSWER_BIT

FAULTS = ("flip", "drop", "duplicate", "delay")

Policy = Callable[[Frame | None], str | None]


def random_policy(rate: float, seed: int) -> Policy:
    """Damage a fraction ``rate`` of frames, each with one of ``FAULTS`` at random (seeded)."""
    rng = random.Random(seed)
    return lambda frame: rng.choice(FAULTS) if rng.random() < rate else None


def drop_invoke_answers(count: int) -> Policy:
    """Drop the first OK answer to each of the first ``count`` INVOKEs (told apart by seq)."""
    dropped: list[int] = []

    def policy(frame: Frame | None) -> str | None:
        if (frame is not None and frame.command == INVOKE_ANSWER and frame.status == Status.OK
                and len(dropped) < count and frame.seq not in dropped):
            dropped.append(frame.seq)
            return "drop"
        return None

    return policy


class AnswerFaultProxy:
    """Forward one host connection to 127.0.0.1:``upstream_port``, damaging device-to-host frames.

    ``counts`` tallies what was done, per fault and per answered command
    (``("drop", INVOKE_ANSWER)``), so a test can show that the faults hit what it
    means to test. Use as a context manager: leaving it closes every socket.
    """

    def __init__(self, upstream_port: int, policy: Policy, *, delay_s: tuple[float, float] = (0.2, 1.5),
                 seed: int = 0, connect_timeout: float = 10.0) -> None:
        self.counts: Counter[tuple[str, int | None]] = Counter()
        self._upstream_port = upstream_port
        self._policy = policy
        self._delay_s = delay_s
        self._rng = random.Random(seed)
        self._connect_timeout = connect_timeout
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = [self._listener]
        self._send_lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._threads: list[threading.Thread] = []
        self.url = f"socket://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> AnswerFaultProxy:
        self._spawn(self._accept)
        return self

    def __exit__(self, *exc: object) -> None:
        for timer in self._timers:
            timer.cancel()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        try:
            host, _ = self._listener.accept()
        except OSError:
            return  # closed before the host connected
        self._sockets.append(host)
        device = self._connect_upstream()
        self._sockets.append(device)
        self._spawn(self._pass_requests, host, device)
        self._damage_answers(device, host)

    def _connect_upstream(self) -> socket.socket:
        """The device's port; QEMU may not listen yet right after it started."""
        deadline = time.monotonic() + self._connect_timeout
        while True:
            try:
                return socket.create_connection(("127.0.0.1", self._upstream_port), timeout=2)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @staticmethod
    def _pass_requests(host: socket.socket, device: socket.socket) -> None:
        with contextlib.suppress(OSError):
            device.settimeout(None)
            while data := host.recv(4096):
                device.sendall(data)

    def _damage_answers(self, device: socket.socket, host: socket.socket) -> None:
        device.settimeout(None)
        body = bytearray()
        with contextlib.suppress(OSError):
            while data := device.recv(4096):
                for byte in data:
                    if byte:
                        body.append(byte)
                    elif body:
                        self._forward(bytes(body), host)
                        body.clear()

    def _forward(self, body: bytes, host: socket.socket) -> None:
        try:
            frame: Frame | None = decode_frame(body)
        except FrameError:
            frame = None  # boot text or noise: forwarded like any frame
        fault = self._policy(frame)
        self.counts[(fault or "intact", None if frame is None else frame.command)] += 1
        wire = b"\x00" + body + b"\x00"
        if fault == "flip":
            damaged = bytearray(body)
            damaged[self._rng.randrange(len(damaged))] ^= 1 << self._rng.randrange(8)
            wire = b"\x00" + bytes(damaged) + b"\x00"
        elif fault == "drop":
            return
        elif fault == "duplicate":
            wire += wire
        elif fault == "delay":
            timer = threading.Timer(self._rng.uniform(*self._delay_s), self._send, (host, wire))
            self._timers.append(timer)
            timer.start()
            return
        self._send(host, wire)

    def _send(self, host: socket.socket, wire: bytes) -> None:
        with self._send_lock, contextlib.suppress(OSError):
            host.sendall(wire)
