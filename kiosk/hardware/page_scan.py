"""From a document camera's frame to a page: found, cropped, straightened, and small enough.

Pure image work on numpy arrays with OpenCV, no device and no thread, so every step is tested on
generated pictures. A 高拍仪 looks straight down on a dark pad; the page is the largest bright
four-cornered shape on it. ``find_page`` returns its corners; ``straighten`` maps them onto an
upright rectangle (a perspective transform: the page may lie skewed and the camera may look a
little askew); ``encode`` writes a JPEG no bigger than the cap, lowering the quality and then
the size until it fits. ``motion`` measures how much two small grey frames differ: a page is
captured only when a few frames in a row barely differ (the hand has let go).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: a scanned page is at most this big (models.MAX_PAGE_BYTES)
MAX_PAGE_BYTES = 300 * 1024
#: the longer side of a straightened page, in pixels (about 200 dpi for A4)
MAX_PAGE_SIDE = 2000
#: the page must cover at least this share of the frame (an ID card on the pad does)
MIN_PAGE_AREA = 0.04
#: the width of a page's picture on screen
THUMB_WIDTH = 200
#: the grey frames motion is measured on
MOTION_SIZE = (160, 120)


@dataclass(frozen=True)
class Page:
    """One scanned page: the JPEG, its size in pixels, and where it lay in the frame."""

    jpeg: bytes
    width: int
    height: int
    corners: tuple[tuple[int, int], ...]  # tl, tr, br, bl in the frame
    #: a small picture for the screen: RGB, bottom row first, ``thumb_size`` pixels
    thumb: bytes = b""
    thumb_size: tuple[int, int] = (0, 0)

    def __repr__(self) -> str:  # the bytes are a resident's document: never in a log line
        return f"Page({self.width}x{self.height}, {len(self.jpeg)} bytes)"


def small_grey(frame: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    return cv2.resize(grey, MOTION_SIZE, interpolation=cv2.INTER_AREA)


def motion(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two small grey frames (0: identical, 255: opposite)."""
    return float(cv2.absdiff(a, b).mean())


def order_corners(points: np.ndarray) -> np.ndarray:
    """Four points as top-left, top-right, bottom-right, bottom-left."""
    pts = points.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], dtype=np.float32)


def find_page(frame: np.ndarray, *, work_width: int = 640) -> np.ndarray | None:
    """The page's corners (tl, tr, br, bl, in frame pixels), or None when no page lies there."""
    h, w = frame.shape[:2]
    scale = work_width / w if w > work_width else 1.0
    small = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale != 1 else frame
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    grey = cv2.GaussianBlur(grey, (5, 5), 0)
    # a page brighter than the pad: Otsu splits them (closing what the print opens); a dark
    # card on the pad: its edges, thickened until they join
    _t, bright = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    best = _quad(bright, grey.shape)
    if best is None:
        edges = cv2.dilate(cv2.Canny(grey, 30, 90), np.ones((5, 5), np.uint8))
        best = _quad(edges, grey.shape)
    if best is None:
        return None
    corners = order_corners(best) / scale
    # a "page" that is the whole frame is the pad lit up, not a page lying on it
    margin = 0.01 * min(w, h)
    if (corners[:, 0].min() <= margin and corners[:, 1].min() <= margin
            and corners[:, 0].max() >= w - 1 - margin and corners[:, 1].max() >= h - 1 - margin):
        return None
    return corners


def _quad(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """The largest four-cornered outline in a mask, big enough to be a page."""
    contours, _h = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area_min = MIN_PAGE_AREA * shape[0] * shape[1]
    best = None
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        area = cv2.contourArea(contour)
        if area < area_min:
            break
        hull = cv2.convexHull(contour)
        quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(quad) != 4:
            rect = cv2.minAreaRect(hull)  # a page with a bent corner: its bounding rectangle
            quad = cv2.boxPoints(rect).reshape(4, 1, 2)
            if cv2.contourArea(quad.astype(np.float32)) > 1.25 * area:
                continue
        best = quad
        break
    return best


def straighten(frame: np.ndarray, corners: np.ndarray, *, max_side: int = MAX_PAGE_SIDE) -> np.ndarray:
    """The page cut out along ``corners`` and mapped onto an upright rectangle."""
    tl, tr, br, bl = corners
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    scale = min(1.0, max_side / max(width, height))
    out_w, out_h = max(1, round(width * scale)), max(1, round(height * scale))
    target = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return cv2.warpPerspective(frame, matrix, (out_w, out_h), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def encode(image: np.ndarray, *, max_bytes: int = MAX_PAGE_BYTES) -> bytes:
    """A JPEG of ``image`` no bigger than ``max_bytes``: quality first, then size, gives way."""
    for _shrink in range(6):
        for quality in (88, 80, 72, 64, 56, 48, 40):
            ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok and len(data) <= max_bytes:
                return data.tobytes()
        image = cv2.resize(image, (max(1, int(image.shape[1] * 0.8)), max(1, int(image.shape[0] * 0.8))),
                           interpolation=cv2.INTER_AREA)
    raise ValueError(f"cannot fit a page into {max_bytes} bytes")


def scan(frame: np.ndarray, *, max_bytes: int = MAX_PAGE_BYTES) -> Page | None:
    """The page lying in ``frame``, ready to send; None when there is none."""
    corners = find_page(frame)
    if corners is None:
        return None
    page = straighten(frame, corners)
    tw = THUMB_WIDTH
    th = max(1, round(page.shape[0] * tw / page.shape[1]))
    thumb = cv2.cvtColor(cv2.flip(cv2.resize(page, (tw, th), interpolation=cv2.INTER_AREA), 0), cv2.COLOR_BGR2RGB)
    return Page(encode(page, max_bytes=max_bytes), page.shape[1], page.shape[0],
                tuple((int(x), int(y)) for x, y in corners), thumb.tobytes(), (tw, th))
