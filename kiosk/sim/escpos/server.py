"""The printer on the network: a loopback TCP endpoint, one parser per connection, the
documents printed so far, and the hooks a test or the simulator panel uses to change it."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

from kiosk.hardware.base import PaperStatus
from kiosk.sim.escpos.document import Document
from kiosk.sim.escpos.parser import EscposParser
from kiosk.sim.escpos.render import render_document_png
from kiosk.sim.escpos.state import PrinterState

log = logging.getLogger(__name__)


class PrinterEmulator:
    """A network receipt printer on loopback. ``start()`` binds (port 0 = any free port)."""

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
        self._documents: list[Document] = []
        self._raw = bytearray()
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
        with self._lock:
            return list(self._documents)

    @property
    def raw(self) -> bytes:
        with self._lock:
            return bytes(self._raw)

    def clear(self) -> int:
        """Forget every page printed so far (a long run would keep them all); how many went."""
        with self._lock:
            dropped = len(self._documents)
            self._documents.clear()
            self._raw.clear()
        return dropped

    def wait_for_documents(self, count: int, timeout: float = 5.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self._documents) >= count, timeout)

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
        parser = EscposParser(self.state, self._add_document, self.encoding)
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
                replies = parser.feed(data)
                if replies and not self.state.silent:
                    try:
                        conn.sendall(replies)
                    except OSError:
                        return

    def _add_document(self, doc: Document) -> None:
        with self._changed:
            self._documents.append(doc)
            index = len(self._documents)
            self._changed.notify_all()
        if self.out_dir is not None:
            try:
                self.render_png(self.out_dir / f"receipt-{index:04d}.png", index - 1)
            except Exception:  # a missing font or a full disk must not take the printer down
                log.exception("cannot render receipt %d to %s", index, self.out_dir)
