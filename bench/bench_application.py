"""24-hour 自助申办 figures: capture -> page ready, and submit -> 办件编号 with 3 pages.

Capture: the real OpenCV driver reads the emulated document camera's MJPEG stream (1280x960 at
10 frames a second, over loopback HTTP); with a page already lying still, ``capture()`` is timed
from the call to the straightened, size-capped JPEG. In the same run, baselines: the camera's
frame period (a capture must wait for at least one fresh still frame) and the page work alone
(``page_scan.scan`` on a frame: find, straighten, encode). Also a page laid down just before the
call: the hand's shake has to settle first.

Submit: a whole kiosk without a window (bootstrap, real devices against emulators, the reference
platform on loopback); each run is a new visit (ID card placed, form filled, three pages taken
earlier on the camera, the household register from the 电子证照, signature, commitment), and
``submit()`` is timed from the tap to the 办件编号 (sealing, the outbox row, the chunked upload,
the submission) and, separately, the whole call with the 受理回执 printed. Baseline in the same
run: one small outbox row (a 帮办代办 request) from ``put`` to delivered.

    .venv/bin/python -m bench.bench_application [--runs N]

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _ms(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"min {ms[0]:7.1f}  median {statistics.median(ms):7.1f}  p95 {p95:7.1f}  max {ms[-1]:7.1f} ms (n={len(ms)})"


def capture(runs: int) -> dict[str, list[float]]:
    from kiosk.hardware import page_scan
    from kiosk.hardware.camera import DocumentCamera
    from kiosk.sim.camera_emulator import CameraEmulator

    emulator = CameraEmulator().start()
    camera = DocumentCamera(emulator.url)
    camera.start(lambda _e: None)
    out: dict[str, list[float]] = {"capture, page already still": [], "capture, page just laid down": [],
                                   "baseline: frame period": [], "baseline: page work alone": []}
    try:
        camera.acquire()
        emulator.show("separation")
        camera.capture(timeout_s=15)  # the stream is open and the page has settled
        for _ in range(runs):
            t = time.perf_counter()
            camera.capture(timeout_s=15)
            out["capture, page already still"].append(time.perf_counter() - t)
        for i in range(max(3, runs // 4)):
            emulator.show("id_card_front" if i % 2 else "hukou_person")
            t = time.perf_counter()
            camera.capture(timeout_s=15)
            out["capture, page just laid down"].append(time.perf_counter() - t)
        seen, t0 = camera.frames_read, time.perf_counter()
        while camera.frames_read < seen + 20:
            time.sleep(0.005)
        out["baseline: frame period"].append((time.perf_counter() - t0) / 20)
        frame = emulator.frame(time.monotonic() + 10)
        for _ in range(runs):
            t = time.perf_counter()
            page_scan.scan(frame)
            out["baseline: page work alone"].append(time.perf_counter() - t)
    finally:
        camera.release()
        camera.stop()
        emulator.stop()
    return out


def _config(folder: Path, url: str):
    from kiosk.config import DEFAULT_PATH, load_config

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "terminal.secret").write_text("bench-terminal-secret-0123456789")
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    text = text.replace('url = "http://127.0.0.1:8765"', f'url = "{url}"')
    text = text.replace('secret_file = "../var/terminal.secret"', 'secret_file = "terminal.secret"')
    text = text.replace('data_dir = "../var"', 'data_dir = "var"').replace("voice = true", "voice = false")
    (folder / "kiosk.toml").write_text(text, encoding="utf-8")
    return load_config(folder / "kiosk.toml")


def submit(runs: int) -> dict[str, list[float]]:
    from kiosk.backend import payloads
    from kiosk.bootstrap import bootstrap
    from kiosk.services.signature import Signature
    from kiosk.sim.backend import ReferenceBackend
    from kiosk.tours.scripted import ScriptedKiosk

    out: dict[str, list[float]] = {"submit -> 办件编号 (3 pages)": [], "submit -> 办件编号 and 回执 printed": [],
                                   "baseline: one small outbox row, put -> delivered": [], "pages: bytes sent": []}
    with tempfile.TemporaryDirectory(prefix="bench-apply-", dir=os.environ.get("TMPDIR")) as d:
        backend = ReferenceBackend(Path(d) / "ref", {"NY-370921-0001": b"bench-terminal-secret-0123456789"})
        url = backend.start()
        kiosk = ScriptedKiosk(bootstrap(_config(Path(d) / "terminal", url))).start()
        try:
            for name in ("idcard", "camera", "printer"):
                kiosk.wait_device(name, 20)
            pages = _pages(kiosk)
            out["pages: bytes sent"] = [float(sum(len(p.jpeg) for p in pages))]
            signature = Signature(strokes=(((0.1, 0.5), (0.3, 0.8), (0.5, 0.3), (0.8, 0.6)),))
            for _ in range(runs):
                flow = _visit(kiosk)
                flow.materials["id_card"].pages[:] = pages[:2]
                flow.materials["bank_card"].pages[:] = pages[2:]
                flow.use_licence("hukou")
                flow.sign(signature)
                flow.confirm(True)
                applications = kiosk.kiosk.ports.applications
                started, t = time.time(), time.perf_counter()
                outcome = flow.submit()
                whole = time.perf_counter() - t
                row = applications.get(flow.key)
                if not outcome.ok or row["status"] != "accepted":
                    raise RuntimeError(f"not accepted: {outcome.title_zh}")
                # the answer is recorded (updated_at, wall clock) before the 回执 is printed
                out["submit -> 办件编号 (3 pages)"].append(row["updated_at"] - started)
                out["submit -> 办件编号 and 回执 printed"].append(whole)
                kiosk.journey.finish(outcome)
                kiosk.journey.end("done")
                kiosk.leave()
                outbox = kiosk.kiosk.outbox
                t = time.perf_counter()
                key = outbox.put("help_request", payloads.help_request("13800138000", "help_request", "帮办代办"))
                while outbox.query("SELECT state FROM outbox WHERE key = ?", (key,))[0][0] != "done":
                    time.sleep(0.002)
                out["baseline: one small outbox row, put -> delivered"].append(time.perf_counter() - t)
        finally:
            kiosk.stop()
            backend.close()
    return out


def _pages(kiosk) -> list:
    """Three real pages from the emulated camera: the ID card's two sides and a bank card."""
    camera, emulator = kiosk.kiosk.hub.device("camera"), kiosk.kiosk.hub.emulator("camera")
    camera.acquire()
    try:
        pages = []
        for document in ("id_card_front", "id_card_back", "bank_card"):
            emulator.show(document)
            pages.append(camera.capture(timeout_s=15))
        return pages
    finally:
        camera.release()


def _visit(kiosk):
    journey = kiosk.journey
    journey.choose("longevity_allowance")
    journey.proceed()
    kiosk.identify_with_idcard("zhu_dehua")
    flow = journey.flow
    if flow.prepare() is not None:
        raise RuntimeError("the bench resident cannot apply")
    form = flow.form
    form.set_region("residence", "370921108001")
    form.set_pick("living", "2")
    form.set_number("household_size", "2")
    form.set_pick("bank", "ABC")
    form.set_phone("phone", "13853801213")
    form.set_delivery("mail_card")
    return flow


def measure(runs: int) -> dict[str, list[float]]:
    return capture(runs) | submit(max(3, runs // 2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    os.environ.setdefault("TMPDIR", str(ROOT / ".tmp"))
    figures = measure(args.runs)
    for name, values in figures.items():
        if name.startswith("pages"):
            print(f"{name:52s} {values[0] / 1024:.0f} KiB")
        else:
            print(f"{name:52s} {_ms(values)}")
    ratio = statistics.median(figures["capture, page already still"]) / statistics.median(figures["baseline: frame period"])
    print(f"capture (page still) / one frame period: {ratio:.1f}x")
    ratio = statistics.median(figures["submit -> 办件编号 (3 pages)"]) / statistics.median(
        figures["baseline: one small outbox row, put -> delivered"])
    print(f"submit -> 办件编号 / one small outbox row delivered: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
