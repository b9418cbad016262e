"""The printer on the network: a loopback TCP endpoint, one parser per connection, the
documents printed so far, and the hooks a test or the simulator panel uses to change it."""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections import deque
from pathlib import Path

from kiosk.hardware.base import PaperStatus
from kiosk.sim.escpos.document import Document
from kiosk.sim.escpos.parser import EscposParser
from kiosk.sim.escpos.render import render_document_png
from kiosk.sim.escpos.state import PrinterState

log = logging.getLogger(__name__)

#: documents kept for reading back: the newest 100 (some 25 m of certificates, most of a
#: 58 mm roll), and no more than 32 MiB of them (``Document.memory``); older ones are forgotten
MAX_DOCUMENTS_KEPT = 100
MAX_DOCUMENTS_BYTES = 32 << 20
#: the tail of the byte stream kept as ``raw`` (every connection, since the last ``clear()``)
MAX_RAW_KEPT = 4 << 20
#: documents waiting for their PNG; a renderer further behind skips the newest (a full
#: 1,000-line document takes seconds to draw)
MAX_RENDER_WAITING = 8


class PrinterEmulator:
    """A network receipt printer on loopback. ``start()`` binds (port 0 = any free port).

    What it keeps is bounded whatever it is sent: see the limits above and in ``parser``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        encoding: str = "gb18030",
        columns: int = 32,
        dots_per_line: int = 384,
        out_dir: Path | None = None,
    ) -> None:
        self.host, self._requested_port = host, port
        self.encoding, self.columns, self.dots_per_line = encoding, columns, dots_per_line
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.state = PrinterState()
        self._documents: deque[tuple[Document, int]] = deque()  # (document, its memory())
        self._documents_bytes = 0
        self._printed = 0  # documents cut since the start or the last clear()
        self._forgetting = False  # older documents have been forgotten since the last clear()
        self._raw = bytearray()  # at most twice MAX_RAW_KEPT, trimmed in one go
        # PNGs are drawn on a thread of their own, so that a long document never holds up
        # the connection that printed it (its status queries are answered meanwhile)
        self._to_render: queue.Queue[tuple[int, Document]] = queue.Queue(MAX_RENDER_WAITING)
        self._render_queued = self._render_done = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self.port = 0

    # lifecycle
    def start(self) -> PrinterEmulator:
        listener = socket.create_server((self.host, self._requested_port))
        listener.settimeout(0.2)  # so the accept loop notices stop()
        self._listener, self.port = listener, listener.getsockname()[1]
        self._spawn(self._accept_loop, "escpos-emulator")
        if self.out_dir is not None:
            self._spawn(self._render_loop, "escpos-emulator-png")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        for t in list(self._threads):
            if t is not threading.current_thread():
                t.join(timeout=2)

    def __enter__(self) -> PrinterEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    # what a test or the simulator panel can do to the printer
    def set_paper(self, paper: PaperStatus) -> None:
        self.state.set_paper(paper)

    def run_out_after(self, n_bytes: int) -> None:
        """Print ``n_bytes`` more bytes of print data, then run out of paper."""
        with self.state.lock:
            self.state.run_out_budget = n_bytes

    def set_silent(self, silent: bool) -> None:
        self.state.silent = silent

    def set_offline(self, offline: bool) -> None:
        """Cover open: nothing prints and DLE EOT 1 reports offline."""
        self.state.offline = offline

    # what came out
    @property
    def documents(self) -> list[Document]:
        """The documents kept, oldest first (the newest ``MAX_DOCUMENTS_KEPT`` at most)."""
        with self._lock:
            return [doc for doc, _ in self._documents]

    @property
    def printed(self) -> int:
        """Documents cut since the start or the last ``clear()``, kept or not."""
        with self._lock:
            return self._printed

    @property
    def raw(self) -> bytes:
        """The bytes received since the last ``clear()`` (the last ``MAX_RAW_KEPT`` of them)."""
        with self._lock:
            return bytes(self._raw[-MAX_RAW_KEPT:])

    def clear(self) -> int:
        """Forget every page printed so far; how many were printed since the last clear."""
        with self._lock:
            dropped = self._printed
            self._documents.clear()
            self._documents_bytes = self._printed = 0
            self._forgetting = False
            self._raw.clear()
        return dropped

    def wait_for_documents(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until ``count`` documents have been printed since the last ``clear()`` and,
        with ``out_dir``, the PNG of each is written (or has failed)."""

        def done() -> bool:
            return self._printed >= count and self._render_done >= self._render_queued

        with self._changed:
            return self._changed.wait_for(done, timeout)

    def render_png(self, path: str | Path, index: int = -1) -> Path:
        return render_document_png(
            self.documents[index],
            Path(path),
            columns=self.columns,
            dots_per_line=self.dots_per_line,
        )

    # internals
    def _spawn(self, target, name: str, *args) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(t)
        t.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed by stop()
            self._threads = [t for t in self._threads if t.is_alive()]
            self._spawn(self._serve, "escpos-emulator-conn", conn)

    def _serve(self, conn: socket.socket) -> None:
        parser = EscposParser(self.state, self._add_document, self.encoding, self.columns)
        conn.settimeout(0.2)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                with self._lock:
                    self._raw += data
                    if len(self._raw) > 2 * MAX_RAW_KEPT:
                        del self._raw[:-MAX_RAW_KEPT]
                replies = parser.feed(data)
                if replies and not self.state.silent:
                    try:
                        conn.sendall(replies)
                    except OSError:
                        return

    def _add_document(self, doc: Document) -> None:
        size = doc.memory()
        with self._changed:
            self._documents.append((doc, size))
            self._documents_bytes += size
            while len(self._documents) > 1 and (
                len(self._documents) > MAX_DOCUMENTS_KEPT
                or self._documents_bytes > MAX_DOCUMENTS_BYTES
            ):
                self._documents_bytes -= self._documents.popleft()[1]
                if not self._forgetting:
                    self._forgetting = True
                    log.info(
                        "keeping the newest %d documents (%d MiB at most); older ones are "
                        "forgotten",
                        MAX_DOCUMENTS_KEPT,
                        MAX_DOCUMENTS_BYTES >> 20,
                    )
            self._printed += 1
            self._changed.notify_all()
            if self.out_dir is None:
                return
            try:
                self._to_render.put_nowait((self._printed, doc))
                self._render_queued += 1
            except queue.Full:
                log.warning(
                    "receipt %d not rendered: %d are waiting for their PNG",
                    self._printed,
                    MAX_RENDER_WAITING,
                )

    def _render_loop(self) -> None:
        assert self.out_dir is not None
        while not self._stop.is_set():
            try:
                index, doc = self._to_render.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                render_document_png(
                    doc,
                    self.out_dir / f"receipt-{index:04d}.png",
                    columns=self.columns,
                    dots_per_line=self.dots_per_line,
                )
            except Exception:  # a missing font or a full disk must not take the printer down
                log.exception("cannot render receipt %d to %s", index, self.out_dir)
            with self._changed:
                self._render_done += 1
                self._changed.notify_all()
