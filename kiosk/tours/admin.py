"""The technician's tour through the real window: the hidden corner gesture, a wrong PIN,
the right PIN, a printer self-test, and leaving maintenance.

``kiosk demo --headless --tour admin`` runs it (once ``TOURS`` here is merged into
``kiosk.tours.named.TOURS``). The PIN typed is the tour's ``admin_pin`` option (``kiosk demo
--admin-pin``; by default the demo PIN, which a simulated terminal without a PIN of its own has).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.uix.widget import Widget

from kiosk.tours.engine import Tour, TourTouch, Wait

WRONG_PIN = "11112222"


def hold(tour: Tour, target: Widget | tuple[float, float], seconds: float) -> float:
    """Press a widget's centre (or a window position) and lift after ``seconds``; the caller
    yields the returned delay."""
    pos = target.to_window(*target.center) if isinstance(target, Widget) else target
    touch = TourTouch(*pos)
    EventLoop.post_dispatch_input("begin", touch)
    Clock.schedule_once(lambda _dt: EventLoop.post_dispatch_input("end", touch), seconds)
    return seconds + 0.3


def type_pin(tour: Tour, pin: str) -> Iterator[Any]:
    for digit in pin:
        tour.tap(tour.find(lambda w, d=digit: getattr(w, "key", None) == d and hasattr(w, "trigger_action")))
        yield 0.12


def admin_pin(tour: Tour) -> str:
    """The PIN this run's technician knows (``kiosk demo --admin-pin``)."""
    return str(tour.options["admin_pin"])


def admin(tour: Tour) -> Iterator[Any]:
    app = tour.app
    kiosk = app.kiosk
    pin = admin_pin(tour)
    yield tour.until_screen("home")
    yield 0.5
    tour.shot("home")

    win = EventLoop.window
    yield hold(tour, (20, win.height - 20), 3.3)  # the hidden gesture: top-left corner, 3 s
    yield tour.until_screen("admin_pin")
    yield 0.3
    tour.shot("pin")

    yield from type_pin(tour, WRONG_PIN)
    tour.shot("pin-typed")
    tour.tap(tour.button("确定"))
    yield Wait(lambda: "密码错误" in tour.screen().message_zh, "the wrong-PIN message", 15)
    yield 0.2
    tour.shot("pin-wrong")

    yield from type_pin(tour, pin)
    tour.tap(tour.button("确定"))
    yield tour.until_screen("admin", 15)
    yield Wait(lambda: kiosk.journey.maintenance, "the terminal to go out of service")
    yield 0.3
    tour.shot("admin")
    tour.facts["in_service_during_admin"] = not kiosk.journey.maintenance

    printer = kiosk.hub.emulator("printer")
    yield Wait(lambda: kiosk.hub.unavailable_reason(["printer"]) is None, "the printer", 15)
    before = len(printer.documents)
    tour.tap(tour.button("打印测试页"))
    yield Wait(lambda: len(printer.documents) > before, "the test page", 20)
    yield Wait(lambda: "测试页已打印" in tour.screen().message_zh, "the self-test result", 10)
    yield 0.2
    tour.shot("selftest")
    tour.facts["documents_before"] = before
    tour.facts["documents_after"] = len(printer.documents)
    tour.facts["test_page_text"] = printer.documents[-1].text

    yield from visit_sections(tour)

    tour.tap(tour.by_id("exit_button"))
    yield tour.until_screen("home", 15)
    yield 0.3
    tour.shot("home-after")
    tour.facts["in_service_after"] = not kiosk.journey.maintenance
    yield tour.run_off_thread(lambda: kiosk.delivery.flush(10.0), "delivering the outbox", 20)
    tour.facts["outbox_depth_after"] = kiosk.outbox.depth()


def _message(tour: Tour, *words: str) -> Wait:
    return Wait(lambda: any(w in tour.screen().message_zh for w in words), f"a message with {words}", 20)


def open_section(tour: Tour, key: str) -> Iterator[Any]:
    """Tap a section's tab and wait until it has loaded and settled."""
    from kiosk.screens.admin import SECTIONS

    screen = tour.screen()
    tour.tap(tour.button(SECTIONS[key][0]))
    yield Wait(lambda: screen.section == key, f"section {key}", 10)
    yield 0.2
    yield Wait(lambda: not screen.working, f"section {key} to load", 15)
    yield 0.5


def tap_when_there(tour: Tour, zh: str) -> Iterator[Any]:
    """Wait for a button to be on screen, then tap it."""
    yield Wait(lambda: bool(tour.button(zh)), f"the button {zh}", 10)
    tour.tap(tour.button(zh))


def visit_sections(tour: Tour) -> Iterator[Any]:
    """Every section once; switch the service off and on; export the diagnostics bundle."""
    screen = tour.screen()
    for key in ("paper", "outbox", "journal", "logs", "config"):
        yield from open_section(tour, key)
        tour.shot(f"section-{screen.section}")

    yield from open_section(tour, "service")
    # signing in closed the terminal; open it, then close it on purpose
    yield from tap_when_there(tour, "恢复服务")
    yield _message(tour, "终端已恢复服务")
    yield 0.5
    yield from tap_when_there(tour, "暂停服务")
    yield _message(tour, "终端已暂停服务")
    yield Wait(lambda: screen.stays_closed, "the exit bar to warn")
    yield 0.3
    tour.shot("service-off")
    tour.facts["exit_label_when_closed"] = tour.by_id("exit_button").zh
    yield from tap_when_there(tour, "恢复服务")
    yield _message(tour, "终端已恢复服务")
    yield 0.3
    tour.shot("service-on")

    yield from open_section(tour, "diagnostics")
    yield from tap_when_there(tour, "导出诊断包")
    yield _message(tour, "已导出", "未找到导出介质")
    yield 0.3
    tour.shot("diagnostics")
    tour.facts["diagnostics_message"] = screen.message_en

    yield from open_section(tour, "restart")
    yield from tap_when_there(tour, "重启程序")  # armed only: a second tap would restart
    # a tap inside a ScrollView is handed on 0.2 s after the finger lifts
    yield Wait(lambda: screen.state.get("confirm") == "restart", "the restart button to arm")
    yield 0.3
    tour.shot("restart-armed")
    yield from open_section(tour, "devices")


def sign_in(tour: Tour, pin: str) -> Iterator[Any]:
    """From home: the corner gesture and the PIN, up to the admin screen."""
    yield tour.until_screen("home")
    yield 0.5
    win = EventLoop.window
    yield hold(tour, (20, win.height - 20), 3.3)
    yield tour.until_screen("admin_pin")
    yield 0.3
    yield from type_pin(tour, pin)
    tour.tap(tour.button("确定"))
    yield tour.until_screen("admin", 15)


def admin_idle(tour: Tour) -> Iterator[Any]:
    """A technician signs in and walks away: after ``admin.idle_timeout_s`` the terminal is
    back home and in service."""
    kiosk = tour.app.kiosk
    yield from sign_in(tour, admin_pin(tour))
    yield 0.3
    tour.shot("admin")
    tour.facts["closed_while_signed_in"] = kiosk.journey.maintenance
    idle_s = kiosk.config.admin.idle_timeout_s
    yield Wait(lambda: tour.screen_name() != "admin", "the admin session to time out", idle_s + 15)
    yield 0.3
    tour.shot("after-idle")
    tour.facts["idle_timeout_s"] = idle_s
    tour.facts["in_service_after"] = not kiosk.journey.maintenance
    yield tour.run_off_thread(lambda: kiosk.delivery.flush(10.0), "delivering the outbox", 20)


TOURS = {"admin": admin, "admin_idle": admin_idle}
