"""The real OpenCV driver against the emulated document camera: an MJPEG stream on loopback HTTP,
read through OpenCV's FFmpeg backend by URL. Preview, stillness, page capture, the size cap."""

from __future__ import annotations

import socket
import time

import cv2
import numpy as np
import pytest

from kiosk.hardware.base import DeviceStatus
from kiosk.hardware.camera import DocumentCamera, NoPageError, NotStillError
from kiosk.sim.camera_emulator import SHAKE_S, CameraEmulator
from tests.support import wait_for


def until(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def rig():
    emulator = CameraEmulator().start()
    events = []
    camera = DocumentCamera(emulator.url, still_frames=4, probe_s=0.5)
    camera.start(events.append)
    yield emulator, camera, events
    camera.stop()
    emulator.stop()


def test_the_camera_is_online_and_reads_only_while_someone_looks(rig):
    emulator, camera, _events = rig
    assert camera.status() is DeviceStatus.ONLINE
    assert camera.frames_read == 0 and emulator.frames_served == 0  # idle: closed
    camera.acquire()
    until(lambda: camera.frames_read >= 5, "frames")
    camera.release()
    until(lambda: camera._cap is None, "the capture to close")
    read = camera.frames_read
    camera.acquire()
    until(lambda: camera.frames_read >= read + 3, "frames again")
    camera.release()


def test_the_preview_is_a_small_flipped_rgb_picture_with_the_page_outlined(rig):
    emulator, camera, _events = rig
    emulator.show("hukou_home")
    camera.acquire()
    until(lambda: (p := camera.preview()) is not None and p.outline and p.still, "a still preview with a page")
    p = camera.preview()
    assert (p.width, p.height) == (480, 360) and len(p.rgb) == 480 * 360 * 3
    # bottom row first: the pad's dark grain at both ends, the page in the middle rows
    rows = np.frombuffer(p.rgb, np.uint8).reshape(360, 480, 3)
    assert rows[0].mean() < 90 and rows[180, 200:280].mean() > 180
    assert len(p.outline) == 4 and all(0 <= x < 480 and 0 <= y < 360 for x, y in p.outline)
    camera.release()
    assert camera.preview() is None


def test_a_capture_waits_for_the_shaking_hand_to_let_go(rig):
    emulator, camera, _events = rig
    camera.acquire()
    until(lambda: camera.frames_read > 2, "frames")
    emulator.show("id_card_front")
    shown = time.monotonic()
    page = camera.capture(timeout_s=10)
    assert time.monotonic() - shown >= SHAKE_S * 0.8  # not while the hand still shook it
    settled = emulator.frame(time.monotonic() + 10)  # where the card lies once still
    from kiosk.hardware import page_scan

    expected = page_scan.find_page(settled)
    assert np.abs(np.array(page.corners) - expected).max() < 4
    image = cv2.imdecode(np.frombuffer(page.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert len(page.jpeg) <= 300 * 1024 and image.shape[:2] == (page.height, page.width)
    assert 1.45 < page.width / page.height < 1.7  # an ID card is 85.6 x 54 mm
    camera.release()


def test_a_hand_that_never_lets_go_is_told_to(rig):
    emulator, camera, _events = rig
    emulator.show("separation")
    emulator.hold(True)
    camera.acquire()
    # frames are coming before the 2 s start: a loaded machine may take that long to open the
    # stream, and a camera with no frames at all is another error (DeviceError)
    wait_for(lambda: camera.preview() is not None, 20, "the first preview")
    with pytest.raises(NotStillError) as caught:
        camera.capture(timeout_s=2)
    assert "保持静止" in caught.value.message_zh
    emulator.hold(False)
    assert camera.capture(timeout_s=10).height > 0
    camera.release()


def test_an_empty_pad_has_no_page(rig):
    emulator, camera, _events = rig
    emulator.show(None)
    camera.acquire()
    with pytest.raises(NoPageError) as caught:
        camera.capture(timeout_s=10)
    assert "平放在拍摄区域内" in caught.value.message_zh
    camera.release()


def test_a_camera_that_is_not_there_says_so():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    events = []
    camera = DocumentCamera(f"http://127.0.0.1:{port}/stream.mjpg", probe_s=0.2, open_timeout_s=0.5)
    camera.start(events.append)
    try:
        assert camera.status() is DeviceStatus.NO_DEVICE and "not found" in camera.last_error()
        missing = DocumentCamera("/dev/video-none")
        missing._probe()
        assert missing.status() is DeviceStatus.NO_DEVICE
    finally:
        camera.stop()


def test_the_emulated_camera_stops_with_the_driver_reconnecting_later(rig):
    emulator, camera, events = rig
    camera.acquire()
    until(lambda: camera.frames_read > 2, "frames")
    port = int(emulator.url.split(":")[2].split("/")[0])
    emulator.stop()
    until(lambda: camera.status() is not DeviceStatus.ONLINE, "the camera to go down", 15)
    again = CameraEmulator().start(port=port)
    try:
        until(lambda: camera.status() is DeviceStatus.ONLINE, "the camera to come back", 15)
        assert any(getattr(e, "payload", None) is DeviceStatus.ONLINE for e in events)
    finally:
        camera.release()
        again.stop()
