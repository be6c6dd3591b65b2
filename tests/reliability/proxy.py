"""A TCP proxy in front of PostgreSQL that a test can cut and restore.

Cutting it is what a database restart looks like to the app: every open connection drops, and new
ones are refused until it is back.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class DatabaseProxy:
    """Listen on a free port of 127.0.0.1 and pass connections on to PostgreSQL at `host`
    (a host name, or the socket directory of a local server) and `port`."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.upstream_port = port
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    def start(self) -> None:
        """Accept connections (again) and pass them on to PostgreSQL."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by cut()
            client.settimeout(None)
            try:
                upstream = self._connect_upstream()
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _connect_upstream(self) -> socket.socket:
        if not self.host.startswith("/"):
            return socket.create_connection((self.host, self.upstream_port))
        upstream = socket.socket(socket.AF_UNIX)
        try:
            upstream.connect(f"{self.host}/.s.PGSQL.{self.upstream_port}")
        except OSError:
            upstream.close()
            raise
        return upstream

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.difference_update((source, target))
            _close(source)
            _close(target)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
