"""The document camera (高拍仪) driver: a UVC camera through OpenCV, or a network camera by URL.

A 高拍仪 is a UVC camera on a stand, looking down on a pad; Linux sees it through V4L2
(``/dev/video0``), and OpenCV reads it with its V4L2 backend (MJPG at the configured size). A
source given as ``http://...`` is opened through OpenCV's FFmpeg backend instead, as a network
camera's MJPEG stream is (the simulated camera is one, on loopback).

One thread owns the capture. While nobody looks (no screen has called ``acquire``) the camera is
closed and only its presence is checked now and then (the device node, or a TCP connect), so an
idle terminal spends nothing on it. While a screen looks, the thread reads every frame, measures
how much it moved since the last one (``page_scan.motion`` on a small grey copy) and, at
``preview_fps``, makes the preview: a small RGB picture, already flipped for a GPU texture, with
the outline of the page it sees; the UI only copies those bytes into its texture. ``capture``
waits until the picture has been still for ``still_frames`` frames (the hand has let go), then
finds, crops and straightens the page and encodes it within the size cap
(``kiosk.hardware.page_scan``). No frame and no page is ever logged.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kiosk.errors import ConfigError, DeviceError, DeviceTimeoutError
from kiosk.hardware.base import DeviceEvent, DeviceStatus, EventKind, EventSink

if TYPE_CHECKING:
    import numpy as np

    from kiosk import config
    from kiosk.hardware import page_scan

# OpenCV (cv2 and numpy, ~0.45 s of CPU to import) is imported on the camera's thread the first
# time a screen looks (``_open``), not at start, where it competed with the first frame; an idle
# camera only has its presence checked, which needs none of it

log = logging.getLogger(__name__)


class NoPageError(DeviceError):
    """The camera sees no page on the pad."""

    message_zh = "未识别到材料，请将材料平放在拍摄区域内，四边都在画面中"
    message_en = "No page found: lay it flat inside the frame, all four edges showing"


class NotStillError(DeviceTimeoutError):
    """The picture kept moving: the page never lay still long enough to be taken."""

    message_zh = "画面不稳定，请放好材料后把手移开，保持静止"
    message_en = "The picture keeps moving: put the page down, take your hand away and keep still"


@dataclass(frozen=True)
class Preview:
    """One preview picture: RGB bytes bottom row first (as a GPU texture wants them)."""

    width: int
    height: int
    rgb: bytes
    seq: int
    #: the page's corners in preview pixels, origin bottom-left; () when no page is seen
    outline: tuple[tuple[float, float], ...]
    still: bool

    def __repr__(self) -> str:
        return f"Preview({self.width}x{self.height}, #{self.seq}, still={self.still})"


class DocumentCamera:
    name = "camera"

    def __init__(
        self,
        source: str,
        *,
        width: int = 1600,
        height: int = 1200,
        fps: float = 10.0,
        preview_width: int = 480,
        preview_fps: float = 8.0,
        still_threshold: float = 1.5,
        still_frames: int = 4,
        open_timeout_s: float = 3.0,
        probe_s: float = 5.0,
    ) -> None:
        if still_frames < 1 or preview_fps <= 0 or fps <= 0:
            raise ValueError("still_frames >= 1, fps and preview_fps > 0")
        self.source = source
        self.width, self.height, self.fps = width, height, fps
        self.preview_width, self.preview_fps = preview_width, preview_fps
        self.still_threshold, self.still_frames = still_threshold, still_frames
        self.open_timeout_s, self.probe_s = open_timeout_s, probe_s
        self._lock = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sink: EventSink | None = None
        self._cap: Any = None
        self._users = 0
        self._status = DeviceStatus.OFFLINE
        self._last_error = ""
        self._frame: np.ndarray | None = None
        self._small: np.ndarray | None = None
        self._seq = 0
        self._still = 0  # frames in a row that barely moved
        self._preview: Preview | None = None
        self._preview_at = 0.0
        self._read_failures = 0
        #: frames read since start (a test sees the stream is read only while someone looks)
        self.frames_read = 0

    # --- the Device port --------------------------------------------------------------------

    def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._stop.clear()
        self._probe()
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def status(self) -> DeviceStatus:
        return self._status

    def last_error(self) -> str:
        return self._last_error

    def reconnect(self) -> None:
        self._close()
        self._probe()
        self._wake.set()

    # --- what the screens and the flow use ----------------------------------------------------

    def acquire(self) -> None:
        """Someone looks: open the camera and keep reading frames until ``release``."""
        with self._lock:
            self._users += 1
            self._still = 0
        self._wake.set()

    def release(self) -> None:
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users == 0:
                self._preview = None
        self._wake.set()

    def preview(self) -> Preview | None:
        """The latest preview picture (made on the camera's thread), or None."""
        return self._preview

    def capture(self, timeout_s: float = 8.0) -> page_scan.Page:
        """Wait for a still picture taken after this call, then return its page. Blocking.
        Raises ``NotStillError``, ``NoPageError`` or ``DeviceError`` (no frames at all)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            start, moving = self._seq, False
            while True:
                if self._seq > start and self._still >= self.still_frames and self._frame is not None:
                    frame = self._frame
                    break
                moving = moving or self._seq > start
                left = deadline - time.monotonic()
                if left <= 0:
                    if moving:
                        raise NotStillError("the picture did not keep still")
                    raise DeviceError(f"camera: no frames from {self._shown_source()} ({self._last_error or 'silent'})",
                                      message_zh="高拍仪没有画面，请联系工作人员",
                                      message_en="The document camera shows nothing; please ask staff")
                self._lock.wait(min(left, 0.2))
        from kiosk.hardware import page_scan

        page = page_scan.scan(frame)
        if page is None:
            raise NoPageError("no page on the pad")
        return page

    # --- the thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        next_probe = time.monotonic() + self.probe_s
        while not self._stop.is_set():
            if self._users == 0:
                self._close()
                if time.monotonic() >= next_probe:
                    self._probe()
                    next_probe = time.monotonic() + self.probe_s
                self._wake.wait(self.probe_s)
                self._wake.clear()
                continue
            if self._cap is None and not self._open():
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            ok, frame = self._cap.read()
            if not ok or frame is None:
                self._read_failures += 1
                if self._read_failures >= 3:
                    self._set_status(DeviceStatus.HARDWARE_ERROR, f"no frames from {self._shown_source()}")
                    self._close()
                continue
            self._read_failures = 0
            self._take(frame)

    def _take(self, frame: np.ndarray) -> None:
        from kiosk.hardware import page_scan

        small = page_scan.small_grey(frame)
        now = time.monotonic()
        with self._lock:
            moved = page_scan.motion(self._small, small) if self._small is not None else 255.0
            self._still = self._still + 1 if moved <= self.still_threshold else 0
            self._frame, self._small = frame, small
            self._seq += 1
            self.frames_read += 1
            still = self._still >= self.still_frames
            seq = self._seq
            self._lock.notify_all()
        if self._status is not DeviceStatus.ONLINE:
            self._set_status(DeviceStatus.ONLINE, "")
        if now - self._preview_at >= 1.0 / self.preview_fps:
            self._preview_at = now
            self._preview = self._make_preview(frame, seq, still)

    def _make_preview(self, frame: np.ndarray, seq: int, still: bool) -> Preview:
        import cv2

        from kiosk.hardware import page_scan

        h, w = frame.shape[:2]
        pw = min(self.preview_width, w)
        ph = round(h * pw / w)
        small = cv2.resize(frame, (pw, ph), interpolation=cv2.INTER_AREA)
        corners = page_scan.find_page(small, work_width=pw)
        outline = () if corners is None else tuple((float(x), float(ph - 1 - y)) for x, y in corners)
        rgb = cv2.cvtColor(cv2.flip(small, 0), cv2.COLOR_BGR2RGB)
        return Preview(pw, ph, rgb.tobytes(), seq, outline, still)

    # --- opening and probing ------------------------------------------------------------------

    def _is_url(self) -> bool:
        return self.source.startswith(("http://", "https://", "rtsp://"))

    def _shown_source(self) -> str:
        return urlsplit(self.source)._replace(query="").geturl() if self._is_url() else self.source

    def _open(self) -> bool:
        import cv2

        ms = int(self.open_timeout_s * 1000)
        try:
            if self._is_url():
                cap = cv2.VideoCapture(self.source, cv2.CAP_FFMPEG,
                                       [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
            else:
                device = int(self.source) if self.source.isdigit() else self.source
                cap = cv2.VideoCapture(device, cv2.CAP_V4L2)
                cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
                cap.set(cv2.CAP_PROP_FPS, self.fps)
                cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not one queued seconds ago
        except cv2.error as e:
            self._set_status(DeviceStatus.HARDWARE_ERROR, f"cannot open {self._shown_source()}: {e}")
            return False
        if not cap.isOpened():
            cap.release()
            present = self._present()
            self._set_status(DeviceStatus.HARDWARE_ERROR if present else DeviceStatus.NO_DEVICE,
                             f"cannot open {self._shown_source()}")
            return False
        self._cap = cap
        log.info("camera %s open", self._shown_source())
        return True

    def _close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()
            with self._lock:
                self._small, self._still, self._frame = None, 0, None

    def _present(self) -> bool:
        """Is the camera there at all (without opening it)?"""
        if self._is_url():
            parts = urlsplit(self.source)
            try:
                with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=1.0):
                    return True
            except OSError:
                return False
        node = f"/dev/video{self.source}" if self.source.isdigit() else self.source
        return os.path.exists(node)

    def _probe(self) -> None:
        if self._present():
            if self._status is not DeviceStatus.HARDWARE_ERROR or self._cap is None:
                self._set_status(DeviceStatus.ONLINE, "")
        else:
            self._set_status(DeviceStatus.NO_DEVICE, f"{self._shown_source()} not found")

    def _set_status(self, status: DeviceStatus, error: str) -> None:
        changed = status is not self._status
        self._status, self._last_error = status, error
        if changed:
            if error:
                log.warning("camera: %s (%s)", status.value, error)
            if self._sink is not None:
                self._sink(DeviceEvent(self.name, EventKind.STATUS, status))


def build(cfg: config.UvcCamera | config.SimulatedDevice) -> tuple[DocumentCamera, None]:
    """The driver for a ``[devices.camera]`` section (``driver = "uvc"``). A simulated camera is
    built by the composition root from ``kiosk.sim``."""
    from kiosk import config as kc

    if isinstance(cfg, kc.UvcCamera):
        return DocumentCamera(cfg.device, width=cfg.width, height=cfg.height, fps=cfg.fps), None
    raise ConfigError(f"devices.camera: driver {getattr(cfg, 'driver', cfg)!r} has no camera driver here")
