"""The emulated document camera (高拍仪): an MJPEG stream on loopback HTTP that OpenCV opens by URL.

The real driver (``kiosk.hardware.camera``) opens ``http://127.0.0.1:PORT/stream.mjpg`` the way
it would open a network camera, and reads frames through OpenCV's FFmpeg backend: the same
capture, decoding, stillness, page finding and straightening run as on a terminal. What the
camera sees is drawn here: a dark pad, and on it the sample document the simulator panel chose
(``kiosk.sim.sample_documents``, each marked 样本), lying a little askew under a camera that looks
a little askew. When a document is put down it shakes as a hand would, then settles; ``hold``
keeps it shaking (a hand that does not let go). Frames are drawn only while someone watches.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from kiosk.sim.sample_documents import SAMPLES, sample

if TYPE_CHECKING:
    import numpy as np

# OpenCV and numpy (~0.45 s to import) are imported when the first frame is drawn, not when the
# terminal starts: as the driver does (kiosk.hardware.camera)

log = logging.getLogger(__name__)

BOUNDARY = b"kioskframe"
#: how long a document shakes after it is put down, and how far (pixels at 1280 wide)
SHAKE_S = 1.2
SHAKE_PX = 14.0


class CameraEmulator:
    def __init__(self, *, width: int = 1280, height: int = 960, fps: float = 10.0, seed: int = 16) -> None:
        self.width, self.height, self.fps = width, height, fps
        self._lock = threading.Lock()
        self._document: str | None = None
        self._shown_at = 0.0
        self._holding = False
        self._rng = random.Random(seed)
        self._pad: np.ndarray | None = None  # drawn with the first frame
        self._cache: dict[str, np.ndarray] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        #: frames sent to viewers since start (a test can see the stream is read)
        self.frames_served = 0
        self.url = ""

    # --- the reviewer's (and the tests') side ------------------------------------------------

    @staticmethod
    def documents() -> list[tuple[str, str, str]]:
        """(key, zh, en) of every sample document the camera can be shown."""
        return [(key, zh, en) for key, (zh, en, _draw) in SAMPLES.items()]

    @property
    def document(self) -> str | None:
        return self._document

    def show(self, document: str | None) -> None:
        """Put a sample document on the pad (None: take it away); it shakes, then settles."""
        if document is not None and document not in SAMPLES:
            raise KeyError(f"no sample document {document!r}")
        with self._lock:
            self._document = document
            self._shown_at = time.monotonic()

    def hold(self, shaking: bool = True) -> None:
        """A hand that keeps holding the page: it never settles until released."""
        with self._lock:
            self._holding = shaking
            self._shown_at = time.monotonic()

    # --- drawing -----------------------------------------------------------------------------

    def _draw_pad(self) -> np.ndarray:
        import cv2
        import numpy as np

        rng = np.random.default_rng(7)
        pad = np.full((self.height, self.width, 3), (52, 48, 46), dtype=np.uint8)
        grain = rng.integers(0, 10, size=(self.height // 8, self.width // 8, 1), dtype=np.uint8)
        pad += cv2.resize(grain, (self.width, self.height), interpolation=cv2.INTER_LINEAR)[..., None]
        return pad

    def _document_bgr(self, key: str) -> np.ndarray:
        import cv2
        import numpy as np

        if key not in self._cache:
            self._cache[key] = cv2.cvtColor(np.asarray(sample(key)), cv2.COLOR_RGB2BGR)
        return self._cache[key]

    def _offset(self, now: float) -> tuple[float, float, float]:
        """The hand's shake now: (dx, dy, degrees), fading out over ``SHAKE_S`` unless held."""
        elapsed = now - self._shown_at
        if not self._holding and elapsed >= SHAKE_S:
            return 0.0, 0.0, 0.0
        fade = 1.0 if self._holding else max(0.0, 1 - elapsed / SHAKE_S) ** 2
        r = self._rng
        return (SHAKE_PX * fade * math.sin(elapsed * 23 + r.random()), SHAKE_PX * fade * math.cos(elapsed * 19 + r.random()),
                1.5 * fade * math.sin(elapsed * 17))

    def frame(self, now: float | None = None) -> np.ndarray:
        """What the camera sees now (BGR)."""
        import cv2
        import numpy as np

        if self._pad is None:
            self._pad = self._draw_pad()
        with self._lock:
            key, shake = self._document, self._offset(time.monotonic() if now is None else now)
        out = self._pad.copy()
        if key is None:
            return out
        doc = self._document_bgr(key)
        h, w = doc.shape[:2]
        # as large as the pad allows, a few degrees askew, the far edge a little narrower
        scale = min(0.78 * self.width / w, 0.82 * self.height / h)
        cx, cy = self.width / 2 + shake[0], self.height / 2 + shake[1]
        angle = math.radians(4.0 + shake[2])
        half_w, half_h = w * scale / 2, h * scale / 2
        corners = []
        for sx, sy, squeeze in ((-1, -1, 0.97), (1, -1, 0.97), (1, 1, 1.0), (-1, 1, 1.0)):
            x, y = sx * half_w * squeeze, sy * half_h
            corners.append((cx + x * math.cos(angle) - y * math.sin(angle), cy + x * math.sin(angle) + y * math.cos(angle)))
        source = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
        matrix = cv2.getPerspectiveTransform(source, np.array(corners, dtype=np.float32))
        cv2.warpPerspective(doc, matrix, (self.width, self.height), dst=out, borderMode=cv2.BORDER_TRANSPARENT)
        return out

    def jpeg(self) -> bytes:
        import cv2

        ok, data = cv2.imencode(".jpg", self.frame(), [cv2.IMWRITE_JPEG_QUALITY, 88])
        assert ok
        return data.tobytes()

    # --- the transport: MJPEG over HTTP on loopback -------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> CameraEmulator:
        emulator = self
        self._stopping.clear()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

            def do_GET(self) -> None:
                if self.path.startswith("/snapshot.jpg"):
                    data = emulator.jpeg()
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if not self.path.startswith("/stream.mjpg"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                period = 1.0 / emulator.fps
                try:
                    while not emulator._stopping.is_set():
                        started = time.monotonic()
                        data = emulator.jpeg()
                        self.wfile.write(b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(data)).encode() + b"\r\n\r\n" + data + b"\r\n")
                        emulator.frames_served += 1
                        emulator._stopping.wait(max(0.0, period - (time.monotonic() - started)))
                except OSError:
                    pass  # the viewer went away

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self._server = Server((host, port), Handler)
        self.url = f"http://{host}:{self._server.server_address[1]}/stream.mjpg"
        self._thread = threading.Thread(target=self._server.serve_forever, name="camera-emulator", daemon=True)
        self._thread.start()
        log.info("camera emulator at %s", self.url)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
