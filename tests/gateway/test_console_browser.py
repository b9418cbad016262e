"""The fleet console in a real browser: Debian's chromium, driven by selenium through
chromium-driver, headless. A technician logs in, sends a whole kiosk a notice and sees it
acknowledged, watches the kiosk go offline when its heartbeats stop; a supervisor marks an
overdue 差评 followed up. Screenshots of each page go to the test's folder; to redraw the ones in
docs/console.md: ``KIOSK_CONSOLE_SHOTS=docs/console make test PYTEST_ARGS=-k console_in``."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from kiosk.backend import payloads
from kiosk.backend.client import BackendClient
from kiosk.config import load_config
from kiosk.gateway import accounts
from tests.support import TEST_SECRET, write_config

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
KIOSK = "NY-370921-0001"
PASSWORD = "correct horse battery"
OTHERS = [  # (id, name, township, heartbeat or None for a terminal never heard from)
    ("NY-370921-0002", "伏山镇便民服务中心", "伏山镇", {"devices": {"idcard": "online", "printer": "online", "ratingpad": "online",
                                                      "sscard": "online"}, "paper": "out", "outbox_depth": 0}),
    ("NY-370921-0003", "农商银行宁阳支行", "宁阳街道", {"devices": {"idcard": "online", "printer": "online", "ratingpad": "offline",
                                                    "sscard": "online"}, "paper": "full", "outbox_depth": 23,
                                         "outbox_oldest_s": 5400, "last_error": "BackendUnavailableError: read timeout"}),
    ("NY-370921-0004", "宁阳县人民医院门诊楼", "宁阳街道", {"devices": {"idcard": "online", "printer": "online", "ratingpad": "online",
                                                      "sscard": "online"}, "paper": "full", "outbox_depth": 0,
                                           "in_service": False}),
    ("NY-370921-0005", "华丰镇便民服务中心", "华丰镇", None),
]


def _browser():
    selenium = pytest.importorskip("selenium")  # noqa: F841 - the test tools install it
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("needs Debian's chromium and chromium-driver (scripts/setup.sh installs them)")
    profile = tempfile.mkdtemp(prefix="kiosk-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                 "--window-size=1440,1300", "--lang=zh-CN"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=opts), profile


def _until(browser, url: str, condition, what: str, timeout: float = 30.0) -> None:
    """Reload ``url`` until ``condition(browser)`` holds (the console has no push)."""
    deadline = time.monotonic() + timeout
    while True:
        browser.get(url)
        if condition(browser):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.5)


def _submit(browser, button) -> None:
    """Click a form's button and wait for the answer's page (a new page replaces this one)."""
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element("tag name", "html")
    button.click()
    WebDriverWait(browser, 20).until(ec.staleness_of(page))


def _beat_others(url: str) -> None:
    """A heartbeat from each seeded terminal that has one, now (they turn offline 3 s later)."""
    for tid, _name, _town, beat in OTHERS:
        if beat is not None:
            with BackendClient(url, tid, f"{tid}-secret-0123456789".encode()) as c:
                c.heartbeat(payloads.heartbeat(software_version="0.1.0", **beat), f"hb-{time.monotonic_ns()}-{tid}")


def _others_seen(browser, url: str) -> dict[str, str]:
    """The fleet page's state of each seeded terminal, read right after their heartbeats (on a
    loaded machine the kiosk's first heartbeat can take longer than their 3 s of life)."""
    states: dict[str, str] = {}
    for _ in range(10):
        _beat_others(url)
        browser.get(url + "/console/terminals")
        states = {tid: _state(browser, f"row-{tid}") for tid, *_ in OTHERS}
        if states["NY-370921-0002"] != "offline":
            break
    return states


def _state(browser, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.CSS_SELECTOR, f"#{element_id} [data-state]")
    return found[0].get_attribute("data-state") if found else ""


def _login(browser, url: str, username: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(url + "/console/login")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    _submit(browser, browser.find_element(By.ID, "login"))


def _seed(backend, url: str) -> None:
    store = backend.gateway_store
    with store.write() as conn:
        accounts.create_user(conn, "tech01", PASSWORD, "technician", "李技术员")
        accounts.create_user(conn, "sup01", PASSWORD, "supervisor", "王主管")
    store.provision(KIOSK, TEST_SECRET.encode(), name="葛石镇便民服务中心", township="葛石镇")
    for tid, name, town, beat in OTHERS:
        secret = f"{tid}-secret-0123456789".encode()
        store.provision(tid, secret, name=name, township=town)
        if beat is not None:
            with BackendClient(url, tid, secret) as c:
                for n in range(3 if tid.endswith("3") else 1):
                    c.deliver("transaction", {"transaction_no": f"{tid}-T{n}", "item_id": "contribution_proof",
                                              "item_name": "个人参保缴费证明查询打印", "status": "completed",
                                              "completed_at": dt.datetime.now().astimezone().isoformat()},
                              f"txn-{tid}-{n}")
    now = dt.datetime.now().astimezone()
    ratings = [  # (terminal, days ago, level, reason)
        ("NY-370921-0002", 30, 1, "等待时间长；打印机缺纸"), ("NY-370921-0003", 2, 2, "操作步骤太多"),
        ("NY-370921-0003", 1, 5, ""), ("NY-370921-0002", 3, 4, ""), ("NY-370921-0004", 0, 5, ""),
        ("NY-370921-0004", 5, 3, ""),
    ]
    for n, (tid, days, level, reason) in enumerate(ratings):
        with BackendClient(url, tid, f"{tid}-secret-0123456789".encode()) as c:
            c.deliver("rating", {"transaction_no": f"R{n:03d}", "area_code": "370921",
                                 "item_id": "contribution_proof" if n % 2 else "water_bill",
                                 "item_name": "个人参保缴费证明查询打印" if n % 2 else "水费缴纳",
                                 "evaluator_hash": "d" * 64, "evaluator_masked": "370***********2819",
                                 "satisfaction": level, "reason": reason,
                                 "rated_at": (now - dt.timedelta(days=days)).isoformat(timespec="seconds")},
                      f"rating-{n}")


def test_the_console_in_a_browser(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from kiosk.bootstrap import bootstrap
    from kiosk.sim.backend import ReferenceBackend
    from kiosk.tours.scripted import ScriptedKiosk

    browser, profile = _browser()
    backend = ReferenceBackend(tmp_path / "platform", offline_after_s=3.0)
    url = backend.start()
    shots = Path(os.environ.get("KIOSK_CONSOLE_SHOTS") or tmp_path / "console")
    shots.mkdir(parents=True, exist_ok=True)
    kiosk = None
    try:
        _seed(backend, url)
        config = load_config(write_config(tmp_path / "terminal", url))
        # heartbeats twice a second (a config file may not ask for fewer than 5 s between them)
        config = config.model_copy(update={"backend": config.backend.model_copy(update={"heartbeat_s": 0.5})})
        kiosk = ScriptedKiosk(bootstrap(config)).start()

        browser.get(url + "/console/login")
        browser.save_screenshot(str(shots / "login.png"))
        _login(browser, url, "tech01")
        fleet = url + "/console/terminals"
        _until(browser, fleet, lambda b: _state(b, f"row-{KIOSK}") == "ok", "the kiosk's first heartbeat")
        seen = _others_seen(browser, url)
        assert seen["NY-370921-0002"] == "attention"  # out of paper
        assert seen["NY-370921-0004"] == "out_of_service"
        assert seen["NY-370921-0005"] == "offline"  # never heard from
        browser.save_screenshot(str(shots / "terminals.png"))

        # a notice for the kiosk's idle screen: sent, carried out, acknowledged
        _submit(browser, browser.find_element(By.LINK_TEXT, KIOSK))
        Select(browser.find_element(By.ID, "kind")).select_by_value("notice")
        browser.find_element(By.ID, "text_zh").send_keys("今晚22:00至23:00系统维护，暂停服务")
        browser.find_element(By.ID, "text_en").send_keys("Closed for maintenance 22:00-23:00 tonight")
        _submit(browser, browser.find_element(By.ID, "send-command"))
        page = url + f"/console/terminals/{KIOSK}"
        _until(browser, page, lambda b: b.find_elements(By.CSS_SELECTOR, "#command-list [data-state='done']"),
               "the kiosk to acknowledge the notice")
        assert "今晚22:00至23:00系统维护" in browser.find_element(By.ID, "notice").text
        assert kiosk.kiosk.notice == ("今晚22:00至23:00系统维护，暂停服务", "Closed for maintenance 22:00-23:00 tonight")
        browser.save_screenshot(str(shots / "terminal.png"))

        # the kiosk stops talking: the console shows it offline by itself
        kiosk.stop()
        kiosk = None
        _until(browser, fleet, lambda b: _state(b, f"row-{KIOSK}") == "offline", "the kiosk to turn offline")
        browser.save_screenshot(str(shots / "terminals-offline.png"))
        browser.get(page)
        assert browser.find_element(By.ID, "state").get_attribute("data-state") == "offline"
        _submit(browser, browser.find_element(By.ID, "logout"))

        # a supervisor follows up the overdue 差评
        _login(browser, url, "sup01")
        browser.get(url + "/console/ratings?state=open")
        overdue = browser.find_element(By.CSS_SELECTOR, "#bad tr.overdue")
        row_id = overdue.get_attribute("id")
        browser.save_screenshot(str(shots / "ratings.png"))
        overdue.find_element(By.NAME, "note").send_keys("已电话回访；已为该终端加装纸卷余量提醒")
        _submit(browser, overdue.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        browser.get(url + "/console/ratings?state=done")
        done = browser.find_element(By.ID, row_id)
        assert "已电话回访" in done.text and "sup01" in done.text
        assert not browser.find_elements(By.ID, "overdue-count")
        browser.save_screenshot(str(shots / "ratings-followed-up.png"))
        browser.get(url + "/console/audit")
        trail = browser.find_element(By.ID, "audit").text
        assert "command" in trail and "rating_follow_up" in trail and "login" in trail
        browser.save_screenshot(str(shots / "audit.png"))
    finally:
        if kiosk is not None:
            kiosk.stop()
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)
        backend.close()
