"""The technician's way through the real Kivy window (offscreen), with real touch events:
a 3 s hold in the top-left corner, the PIN keypad, a wrong PIN, the right PIN, a printer
self-test (the emulator receives one more document) and leaving maintenance.

The tour runs in a subprocess (one Kivy window per process) through ``kiosk demo``.
"""

from __future__ import annotations

import zipfile

import pytest

from kiosk.admin.pin import hash_pin
from tests.support import run_tour, step

pytestmark = pytest.mark.ui

PIN = "73915824"

def admin_tour(folder, name, **replace):
    """The tour with a PIN set and a USB stick (a folder) to export to."""
    usb = folder / "usb"
    usb.mkdir()
    replace = {'pin_hash = ""': f'pin_hash = "{hash_pin(PIN)}"',
               'export_dir = "/media/kiosk-usb"': f'export_dir = "{usb}"', **replace}
    return {**run_tour(folder, name, 240, args=("--admin-pin", PIN), **replace), "usb": usb}


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    return admin_tour(tmp_path_factory.mktemp("admin"), "admin")


def received_audit(tour):
    from kiosk.sim.backend.server import ReferenceBackend

    backend = ReferenceBackend(tour["data"] / "backend")
    try:
        return [(r["payload"]["action"], r["payload"]["detail"]) for r in backend.received("audit")]
    finally:
        backend.close()


def test_the_tour_goes_from_the_gesture_to_the_self_test_and_back(tour):
    assert tour["proc"].returncode == 0, tour["proc"].stdout[-3000:] + tour["proc"].stderr[-3000:]
    assert tour["result"]["ok"], tour["result"]["failure"]
    names = [(s["name"], s["screen"]) for s in tour["result"]["steps"]]
    assert names == [("home", "home"), ("pin", "admin_pin"), ("pin-typed", "admin_pin"),
                     ("pin-wrong", "admin_pin"), ("admin", "admin"), ("selftest", "admin"),
                     ("section-paper", "admin"), ("section-outbox", "admin"), ("section-journal", "admin"),
                     ("section-logs", "admin"), ("section-config", "admin"), ("service-off", "admin"),
                     ("service-on", "admin"), ("diagnostics", "admin"), ("restart-armed", "admin"),
                     ("home-after", "home")]


def test_the_pin_is_shown_as_dots_only(tour):
    typed = step(tour, "pin-typed")["texts"]
    assert "●" * 8 in typed
    for s in tour["result"]["steps"]:
        assert PIN not in " ".join(s["texts"]) and "11112222" not in " ".join(s["texts"])


def test_a_wrong_pin_says_how_many_tries_are_left(tour):
    assert "密码错误，还可尝试 4 次" in step(tour, "pin-wrong")["texts"]


def test_the_admin_screen_shows_the_devices_and_the_terminal_is_closed(tour):
    texts = step(tour, "admin")["texts"]
    for word in ("终端维护", "暂停服务中", "打印机", "身份证阅读器", "打印测试页", "退出维护并恢复服务"):
        # table cells carry both languages ("打印机 printer"), labels only their own
        assert any(t == word or t.startswith(word + " ") for t in texts), word
    assert tour["result"]["facts"]["in_service_during_admin"] is False


def test_the_self_test_printed_one_page(tour):
    facts = tour["result"]["facts"]
    assert facts["documents_after"] == facts["documents_before"] + 1
    assert "打印机自检" in facts["test_page_text"]
    assert "测试页已打印" in step(tour, "selftest")["texts"]


def test_each_section_shows_its_content(tour):
    def text(name):
        return " ".join(step(tour, name)["texts"])

    assert "本卷已打印" in text("section-paper") and "纸量充足" in text("section-paper")
    assert "待上传" in text("section-outbox") and "立即上传" in text("section-outbox")
    assert "全部事项" in text("section-journal") and "没有记录" in text("section-journal")
    assert "（无日志）" not in text("section-logs") and " INFO " in text("section-logs")
    config = text("section-config")
    assert '"pin_hash": "(hidden)"' in config and "scrypt$" not in config and '"kiosk": "' in config
    assert "再次点击确认重启" in text("restart-armed")


def test_switching_the_service_off_warns_on_the_exit_bar(tour):
    facts = tour["result"]["facts"]
    off = step(tour, "service-off")["texts"]
    assert "退出后终端仍暂停服务，居民无法办理业务" in off and "恢复服务并退出" in off
    assert facts["exit_label_when_closed"] == "退出维护（保持暂停服务）"
    on = step(tour, "service-on")["texts"]
    assert "退出后终端仍暂停服务，居民无法办理业务" not in on and "服务中" in on


def test_the_diagnostics_bundle_lands_on_the_stick(tour):
    bundles = list(tour["usb"].glob("kiosk-diagnostics-*.zip"))
    assert len(bundles) == 1
    assert bundles[0].name in tour["result"]["facts"]["diagnostics_message"]
    with zipfile.ZipFile(bundles[0]) as zf:
        assert "scrypt$" not in zf.read("config.json").decode()


def test_leaving_reopens_the_terminal_and_the_audit_reached_the_backend(tour):
    facts = tour["result"]["facts"]
    assert facts["in_service_after"] is True
    assert "请选择要办理的事项" in step(tour, "home-after")["texts"]
    assert facts["outbox_depth_after"] == 0
    audit = [(action, detail.split("]")[0] + "]") for action, detail in received_audit(tour)]
    assert audit == [("login", "[refused]"), ("login", "[ok]"), ("selftest_print", "[ok]"), ("journal_view", "[ok]"),
                     ("logs_view", "[ok]"), ("config_view", "[ok]"), ("service", "[ok]"), ("service", "[ok]"), ("service", "[ok]"),
                     ("export_diagnostics", "[ok]"), ("logout", "[ok]")]


def test_an_idle_admin_session_ends_and_the_terminal_reopens(tmp_path_factory):
    idle = admin_tour(tmp_path_factory.mktemp("admin_idle"), "admin_idle",
                      **{"idle_timeout_s = 180        # an idle admin session": "idle_timeout_s = 30  # an idle admin session"})
    assert idle["proc"].returncode == 0, idle["proc"].stdout[-3000:] + idle["proc"].stderr[-3000:]
    assert idle["result"]["ok"], idle["result"]["failure"]
    facts = idle["result"]["facts"]
    assert facts["idle_timeout_s"] == 30 and facts["closed_while_signed_in"] is True
    assert step(idle, "after-idle")["screen"] == "home" and facts["in_service_after"] is True
    assert ("logout", "[ok] idle; in service") in received_audit(idle)
