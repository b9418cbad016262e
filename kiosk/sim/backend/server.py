"""The reference backend: the simulated government platform, served over real HTTP on loopback.

It is what the demo and the tests talk to, so the terminal's real client code path always
runs. Requests are checked like a real platform would (HMAC signature, clock skew, replayed
nonces, idempotency keys) and the server can be told to misbehave (``faults``). ``/sim/...``
endpoints let a test, or a reviewer with curl, see what arrived and pay orders; they need no
signature and answer only loopback clients.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from kiosk.backend import signing
from kiosk.sim.backend import api, faults, routes
from kiosk.sim.backend.faults import Faults
from kiosk.sim.backend.store import ReferenceStore

log = logging.getLogger(__name__)

#: the terminal in config/kiosk.toml and its demo secret (the demo writes var/terminal.secret)
DEMO_TERMINALS: dict[str, bytes] = {"NY-370921-0001": b"demo-terminal-secret-change-me"}
MAX_REQUEST_BYTES = 64 * 1024
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    # keep-alive connections outlive shutdown(); a stopped backend must really be gone, so
    # the connections are tracked and cut on stop
    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self._open_lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # terminals that hang up (killed, timed out) are normal here, not tracebacks on stderr
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError | ssl.SSLError):
            return
        log.exception("reference backend: error serving %s", client_address)


class ReferenceBackend:
    """In-process control of the reference server: start, stop, faults, and what it received."""

    def __init__(
        self,
        data_dir: Path | None = None,
        terminals: dict[str, bytes] | None = None,
        *,
        today: dt.date | None = None,
    ) -> None:
        self._tmp: str | None = None
        if data_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="kiosk-refbackend-")
            data_dir = Path(self._tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.terminals = dict(DEMO_TERMINALS if terminals is None else terminals)
        self._today = today
        self.store = ReferenceStore(data_dir / "reference.db")
        self.faults = Faults()
        self.signing_secret = self._server_secret(data_dir)
        self.public_url = ""
        self.url = ""
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()
        #: added to the server's clock when checking signatures: simulates a terminal whose
        #: clock is wrong (the terminal sees its signatures refused as stale)
        self.clock_offset_s = 0.0
        #: demos without a person to scan the QR code: orders pay themselves after this long
        self.auto_pay_after_s: float | None = None
        #: how long a payment order can be paid
        self.order_ttl_s = 15 * 60
        from kiosk.sim.backend import payments

        payments.seed_demo_orders(self)

    @staticmethod
    def _server_secret(data_dir: Path) -> bytes:
        # keeps verification codes stable across restarts of the same data dir
        path = data_dir / "server.secret"
        if not path.exists():
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip().encode()

    def today(self) -> dt.date:
        return self._today or dt.date.today()

    def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls_cert: Path | None = None,
        tls_key: Path | None = None,
    ) -> str:
        """Serve; returns the base URL. With ``tls_cert``/``tls_key`` (PEM) it serves HTTPS."""
        httpd = _Server((host, port), _Handler)
        httpd.backend = self  # type: ignore[attr-defined]
        scheme = "http"
        if tls_cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(tls_cert, tls_key)
            # the handshake happens in the request's thread, so a slow client cannot stall accept()
            httpd.socket = ctx.wrap_socket(
                httpd.socket, server_side=True, do_handshake_on_connect=False
            )
            scheme = "https"
        self._httpd = httpd
        bound_host, bound_port = httpd.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self.url = self.public_url = f"{scheme}://{shown}:{bound_port}"
        self.stopping.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="reference-backend", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.cut_connections()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        """Stop serving and release the database (and the temporary data dir, if any)."""
        self.stop()
        self.store.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> ReferenceBackend:
        if not self.url:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what tests ask ----------------------------------------------------------------------

    def received(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self.store.received(kind)

    def mark_paid(self, order_no: str) -> dict[str, Any]:
        from kiosk.sim.backend import payments

        return payments.mark_paid(self, order_no)

    def schedule_auto_pay(self, order_no: str) -> None:
        def pay() -> None:
            try:
                self.mark_paid(order_no)
            except Exception:  # closed or expired meanwhile: nothing to pay
                pass

        timer = threading.Timer(self.auto_pay_after_s or 0.0, pay)
        timer.daemon = True
        timer.start()

    def secret_for(self, terminal: str) -> bytes | None:
        return self.terminals.get(terminal)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "KioskReference/1"
    backend: ReferenceBackend

    #: idle keep-alive connections and stalled clients give their thread back after this long
    timeout = 60

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def date_time_string(self, timestamp: float | None = None) -> str:
        # the Date header follows the simulated server clock, as a real server's would
        now = time.time() if timestamp is None else timestamp
        return super().date_time_string(now + self.server.backend.clock_offset_s)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # request lines would carry nothing personal, but tests want a quiet stderr

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (unknown method, bad request line) in the one error shape."""
        path = urlsplit(self.path).path if getattr(self, "path", "") else ""
        if code == 501:  # a method http.server has no do_ handler for
            known = any(p == path for _m, p in routes.ROUTES)
            code = 405 if known else 404
            err = api.ApiError(
                code,
                "method_not_allowed" if known else "not_found",
                "请求方式错误",
                f"{getattr(self, 'command', '')} not allowed",
            )
        else:
            err = api.ApiError(code, "bad_request", "请求格式错误", message or "bad request")
        data = (
            b""
            if getattr(self, "command", "") == "HEAD"
            else json.dumps(err.body(), ensure_ascii=False).encode()
        )
        try:
            self._send(code, data, "application/json; charset=utf-8", close=True)
        except OSError:
            pass

    # --- plumbing ----------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        self.backend = self.server.backend  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        path, query = split.path, dict(parse_qsl(split.query))
        try:
            raw = self._read_body()
        except api.ApiError as e:
            self._send_json(e.status, e.body(), close=True)
            return
        if path.startswith("/sim/"):
            self._sim(method, path, query, raw)
            return
        fault = self.backend.faults.take(path)
        if fault is not None and fault.when == "before" and faults.misbehave(self, fault, None):
            return
        try:
            status, answer = self._handle(method, path, query, raw)
        except api.ApiError as e:
            status, answer = e.status, e.body()
        except Exception as e:  # a bug in the simulator must still answer in the one error shape
            log.exception("reference backend: %s %s failed", method, path)
            status, answer = (
                500,
                api.ApiError(
                    500, "internal", "系统内部错误", f"internal error: {type(e).__name__}", True
                ).body(),
            )
        if fault is not None and fault.when == "after" and faults.misbehave(self, fault, answer):
            return
        self._send_json(status, answer)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
            raise api.ApiError(413, "request_too_large", "请求过大", "request body too large")
        return self.rfile.read(int(length))

    def _handle(
        self, method: str, path: str, query: dict[str, str], raw: bytes
    ) -> tuple[int, dict]:
        route = routes.ROUTES.get((method, path))
        if route is None:
            if any(p == path for _m, p in routes.ROUTES):
                raise api.ApiError(
                    405, "method_not_allowed", "请求方式错误", f"{method} not allowed on {path}"
                )
            raise api.ApiError(404, "not_found", "请求的服务不存在", f"no such endpoint {path}")
        terminal = ""
        if (method, path) not in routes.UNSIGNED:
            try:
                terminal = signing.verify(
                    self.headers,
                    method,
                    self.path,
                    raw,
                    self.backend.secret_for,
                    self.backend.store.remember_nonce,
                    now=time.time() + self.backend.clock_offset_s,
                )
            except signing.SignatureError as e:
                raise api.ApiError(
                    401, e.code, e.message_zh, f"authentication failed: {e}", False
                ) from None
        body: dict[str, Any] = {}
        if method == "POST":
            try:
                body = json.loads(raw or b"{}")
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise api.ApiError(
                    400, "malformed_json", "请求格式错误", "body is not JSON"
                ) from None
            if not isinstance(body, dict):
                raise api.ApiError(
                    400, "malformed_json", "请求格式错误", "body must be a JSON object"
                )
        call = api.Call(
            self.backend, terminal, body, self.headers.get(signing.H_IDEMPOTENCY, ""), query
        )
        if (method, path) in routes.KEYED:
            api.need_key(call)
        return route(call)

    def _send_json(self, status: int, answer: dict, *, close: bool = False) -> None:
        data = json.dumps(answer, ensure_ascii=False).encode()
        self._send(status, data, "application/json; charset=utf-8", close=close)

    def _send(self, status: int, data: bytes, ctype: str, *, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if status == 405:
            allowed = sorted(m for m, p in routes.ROUTES if p == urlsplit(self.path).path)
            self.send_header("Allow", ", ".join(allowed))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        # headers and body in one write: two small writes meet delayed ACK and cost 40 ms
        self._headers_buffer.append(b"\r\n" + data)  # type: ignore[attr-defined]
        self.flush_headers()

    # --- /sim ----------------------------------------------------------------------------------

    def _sim(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        if self.client_address[0] not in LOOPBACK:
            self._send_json(403, api.ApiError(403, "forbidden", "禁止访问", "loopback only").body())
            return
        from kiosk.sim.backend import controls

        try:
            status, answer = controls.handle(self.backend, method, path, query, raw)
        except api.ApiError as e:
            status, answer = e.status, e.body()
        self._send_json(status, answer)
