"""The soak's sessions in one process: scripted (``ScriptedKiosk``, no window, with in-process
faults) or through the offscreen Kivy window with real touches. ``kiosk soak`` runs them."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from kiosk.config import KioskConfig
from kiosk.tours.soak import Sample, sample

log = logging.getLogger(__name__)

#: residents whose certificate can be printed (insured, valid card); the scripted run adds others
PRINTABLE = ("wang_jianguo", "zhang_xiuying", "liu_yan", "li_guilan", "sun_zhiqiang", "wu_haitao",
             "zheng_shuzhen", "ma_yumei", "zhu_dehua", "gao_junjie", "luo_cheng", "ayigul")
#: also served by the scripted run: no insurance (empty record), an expired card (refused)
OTHERS = ("chen_ming", "zhou_fang", "he_jing", "expired")
#: a pause after a screen appears and before it is tapped: its first layout pass must have run,
#: or the touch lands where the widget was drawn for one frame (as a real finger never would)
SETTLE_S = 0.15
FAULTS = ("paper_out", "card_pulled", "reader_unplugged", "backend_down", "answer_lost")


@dataclass(frozen=True)
class Plan:
    """How many sessions, how often to sample, which faults, how long at most."""

    sessions: int
    sample_every: int
    seed: int
    max_minutes: float
    faults: bool = False
    fault_rate: float = 0.0


def _forget_printed(kiosk: Any) -> None:
    # The emulator keeps every page it printed, for tests that read them back; over thousands of
    # sessions that list would be the growth measured.
    emulator = kiosk.hub.emulator("printer")
    if emulator is not None:
        emulator.clear()


# --- one scripted session ----------------------------------------------------------------------


class ScriptedSessions:
    """Runs resident sessions on a ``ScriptedKiosk``, injecting the in-process faults."""

    def __init__(self, scripted: Any, backend: Any, rng: random.Random) -> None:
        self.sk = scripted
        self.backend = backend
        self.rng = rng
        self.outcomes: dict[str, int] = {}
        self.faults: dict[str, int] = {}

    def run(self, resident: str, fault: str | None) -> str:
        outcome = self._session(resident, fault)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if fault is not None:
            self.faults[fault] = self.faults.get(fault, 0) + 1
        _forget_printed(self.sk.kiosk)
        return outcome

    def _session(self, resident: str, fault: str | None) -> str:
        from kiosk.hardware.base import PaperStatus
        from kiosk.services.journey import Outcome
        from kiosk.services.rating import Level, Rating

        sk, journey, hub = self.sk, self.sk.journey, self.sk.kiosk.hub
        if fault == "reader_unplugged":
            self._unplug_reader()
        for device in ("idcard", "printer"):
            sk.wait_device(device, 30)
        sk.pump(lambda: journey.backend_online, 30, "the backend to be online")
        journey.choose(sk.item_for_flow("contribution_certificate").id)
        journey.proceed()
        sk.identify_with_idcard(resident)
        if sk.refused:
            sk.refused.clear()
            sk.take_card()
            journey.end("cancelled")
            return "refused"
        if fault == "card_pulled":
            hub.emulator("idcard").remove()
            sk.pump(lambda: journey.state == "farewell", 10, "the session to end on card removal")
            sk.leave()
            return "card_pulled"
        record = journey.flow.load()
        if record.empty:
            outcome = Outcome(True, "查询完成", "Query finished")
        elif fault == "paper_out":
            printer = hub.emulator("printer")
            printer.set_paper(PaperStatus.OUT)
            first = journey.flow.print_certificate()
            printer.set_paper(PaperStatus.FULL)
            if first.ok:
                raise AssertionError("a certificate printed with no paper")
            outcome = journey.flow.print_certificate()  # the resident's 重新打印
        else:
            outcome = journey.flow.print_certificate()
        journey.finish(outcome)
        journey.to_rating()
        if fault == "backend_down":
            self.backend.stop()
        elif fault == "answer_lost":
            # the rating is stored, then the connection dies: the resend must not count twice
            self.backend.faults.set("drop", count=1, when="after", path_prefix="/v1/ratings")
        level = self.rng.randint(1, 5)
        journey.rate(Rating(Level(level), reasons=("slow",) if level <= 2 else (), source="screen"))
        sk.leave()
        if fault == "backend_down":
            self._backend_back()
        return "printed" if outcome.ok and not record.empty else ("empty" if outcome.ok else "not_printed")

    def _unplug_reader(self) -> None:
        sk, hub = self.sk, self.sk.kiosk.hub
        emulator = hub.emulator("idcard")
        emulator.unplug()
        sk.pump(lambda: hub.unavailable_reason(["idcard"]) is not None, 30, "the unplugged reader to be missed")
        emulator.replug()

    def _backend_back(self) -> None:
        delivery = self.sk.kiosk.delivery
        deadline = time.monotonic() + 10
        while delivery.online and self.sk.kiosk.outbox.depth() and time.monotonic() < deadline:
            time.sleep(0.05)  # let the worker find the backend gone
        parsed = urlparse(self.backend.url)
        self.backend.start(parsed.hostname, parsed.port)
        # a technician's forced sync; the worker alone would wait out its back-off (up to 30 s)
        delivery.flush(15)
        self.sk.pump(lambda: self.sk.journey.backend_online, 30, "the backend to be online again")


def run_scripted(plan: Plan, config: KioskConfig, backend: Any, t0: float) -> dict[str, Any]:
    from kiosk.bootstrap import bootstrap
    from kiosk.tours.scripted import ScriptedKiosk

    rng = random.Random(plan.seed)
    samples: list[Sample] = []
    residents = PRINTABLE + OTHERS
    deadline = t0 + plan.max_minutes * 60
    done = 0
    # no reviewers' copies (a PDF and a PNG of every certificate, ~0.4 s of CPU each and two
    # files a session): a terminal with no A4 printer writes no PDF either
    with ScriptedKiosk(bootstrap(config, certificate_copies=None)) as sk:
        sessions = ScriptedSessions(sk, backend, rng)
        samples.append(sample(0, time.monotonic() - t0))
        for done in range(1, plan.sessions + 1):
            fault = rng.choice(FAULTS) if plan.faults and rng.random() < plan.fault_rate else None
            sessions.run(rng.choice(residents), fault)
            if done % plan.sample_every == 0:
                samples.append(sample(done, time.monotonic() - t0))
            if time.monotonic() > deadline:
                log.warning("soak: time budget spent after %d sessions", done)
                break
        left = sk.kiosk.delivery.flush(60)
    return {"sessions_done": done, "samples": samples, "outcomes": sessions.outcomes,
            "faults": sessions.faults, "outbox_left": left}


# --- through the window ---------------------------------------------------------------------


def run_window(plan: Plan, config: KioskConfig, t0: float, out_dir: Path) -> dict[str, Any]:
    from kiosk.commands.run import start_app

    state: dict[str, Any] = {"samples": [], "done": 0, "outcomes": {}}
    script = window_script(plan.sessions, plan.sample_every, state, t0, t0 + plan.max_minutes * 60)
    code = start_app(config, fullscreen=False, headless=True, tour=script, out_dir=out_dir)
    if code != 0:
        state["outcomes"]["tour_failed"] = 1
    return {"sessions_done": state["done"], "samples": state["samples"], "outcomes": state["outcomes"],
            "faults": {}, "outbox_left": state.get("outbox_left")}


def window_script(sessions: int, every: int, state: dict[str, Any], t0: float, deadline: float):
    """A tour serving ``sessions`` residents through the window with real touches, no screenshots
    (a tour's screenshots and records would be the growth measured)."""

    def script(tour: Any):
        from kiosk.tours.engine import Wait, leave, open_item, rate

        kiosk = tour.app.kiosk
        item = next(i for i in kiosk.catalogue.items if i.flow == "contribution_certificate")
        idcard = kiosk.hub.emulator("idcard")
        yield tour.until_screen("home", 30)
        yield Wait(lambda: kiosk.hub.unavailable_reason(["idcard", "printer"]) is None, "the devices", 30)
        state["samples"].append(sample(0, time.monotonic() - t0))
        levels = ("非常满意", "满意", "基本满意")
        for i in range(1, sessions + 1):
            resident = PRINTABLE[i % len(PRINTABLE)]
            yield from open_item(tour, item_id=item.id)
            yield SETTLE_S
            tour.tap(tour.by_id("start_button"))
            yield tour.until_screen("identify")
            yield tour.run_off_thread(lambda r=resident: idcard.place(r), "placing the ID card")
            yield tour.until_screen("record")
            yield Wait(lambda: tour.screen().loaded, "the record to load", 15)
            yield SETTLE_S
            tour.tap(tour.by_id("print_button"))
            yield tour.until_screen("result", 20)
            yield SETTLE_S
            ok = bool(kiosk.journey.outcome and kiosk.journey.outcome.ok)
            state["outcomes"]["printed" if ok else "not_printed"] = state["outcomes"].get(
                "printed" if ok else "not_printed", 0) + 1
            tour.tap(tour.by_id("done_button"))
            yield tour.until_screen("rating")
            yield SETTLE_S
            yield from rate(tour, levels[i % len(levels)])
            yield from leave(tour)
            _forget_printed(kiosk)
            state["done"] = i
            if i % every == 0:
                state["samples"].append(sample(i, time.monotonic() - t0))
            if time.monotonic() > deadline:
                break
        box: dict[str, int] = {}
        yield tour.run_off_thread(lambda: box.setdefault("left", kiosk.delivery.flush(60)), "delivering", 90)
        state["outbox_left"] = box.get("left")

    return script
