"""The contents of each admin section, built into the admin screen's scrolling box.

One function per section, each taking the ``AdminScreen``. Anything that touches a device,
SQLite or the network goes through ``screen.run`` (the UI worker); reading the hub's
in-memory snapshot does not. Personal data never appears here unmasked: the journal rows
are masked in the store already.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label

from kiosk.admin.actions import JOURNAL_STATUS_ZH, PAPER_ZH
from kiosk.money import yuan
from kiosk.widgets.common import Banner, BigButton, BiLabel, Table
from kiosk.widgets.theme import hex_rgba

CARD_WAIT_S = 30.0
JOURNAL_ROWS_SHOWN = 30


def _grid(screen, cols: int = 2) -> GridLayout:
    theme = screen.app.theme
    grid = GridLayout(cols=cols, spacing=theme.dp("pad") * 0.5, size_hint_y=None)
    grid.bind(minimum_height=grid.setter("height"))
    screen.ids.content.add_widget(grid)
    return grid


def _button(parent, zh: str, en: str, on_release, kind: str = "secondary") -> BigButton:
    button = BigButton(zh=zh, en=en, kind=kind)
    button.bind(on_release=lambda _b: on_release())
    parent.add_widget(button)
    return button


def _text(screen, text: str) -> Label:
    """A block of technician text (logs, config), small and wrapped."""
    theme = screen.app.theme
    label = Label(text=text, font_size=theme.sp("small"), color=hex_rgba(theme.colour("text")),
                  halign="left", valign="top", size_hint_y=None)
    label.bind(width=lambda w, width: setattr(w, "text_size", (width, None)),
               texture_size=lambda w, size: setattr(w, "height", size[1]))
    screen.ids.content.add_widget(label)
    return label


def _table(screen, header: list[str], body: list[list[str]] | None = None) -> Table:
    table = Table()  # header and body after construction: Table rebuilds its cells on change
    table.header = header
    table.body = body or []
    screen.ids.content.add_widget(table)
    return table


def _heading(screen, zh: str, en: str) -> None:
    screen.ids.content.add_widget(BiLabel(zh=zh, en=en, role="heading"))


# --- devices ----------------------------------------------------------------------------------


def devices(screen) -> None:
    actions = screen.actions
    table = _table(screen, ["设备", "状态", "纸张", "最后错误", "时间"])

    def fill(rows) -> None:
        table.body = [
            [r.name_zh, f"{r.status_zh} {r.status}", PAPER_ZH.get(r.paper, "—") if r.paper else "—",
             r.last_error or "—", r.since_text]
            for r in rows
        ]

    fill(actions.devices())
    _storage(screen)
    _heading(screen, "自检", "Self-tests")
    tests = _grid(screen)
    _button(tests, "刷新状态", "Refresh", lambda: screen.run(actions.refresh_devices, fill))
    _button(tests, "打印测试页", "Print a test page",
            lambda: screen.run(actions.self_test_print, busy=("正在打印测试页…", "Printing a test page…"),
                               ok=("测试页已打印", "Test page printed"), done=lambda _r: screen.show("devices")))
    _button(tests, "读身份证测试", "Read an ID card",
            lambda: _card_test(screen, "idcard", "请在身份证阅读器上放置证件", "Place an ID card on the reader"))
    _button(tests, "读社保卡测试", "Read a social security card",
            lambda: _card_test(screen, "sscard", "请插入社保卡", "Insert a social security card"))
    _button(tests, "评价器按键测试", "Press a key on the evaluation pad",
            lambda: screen.run(lambda: actions.self_test_ratingpad(CARD_WAIT_S),
                               lambda text: screen.say(text, "", "success"),
                               busy=(f"请在 {CARD_WAIT_S:.0f} 秒内按评价器任意键", "Press any key on the pad")))
    _heading(screen, "重新连接", "Reconnect")
    again = _grid(screen)
    for row in actions.devices():
        _button(again, f"重连{row.name_zh}", f"Reconnect the {row.name_en}",
                lambda name=row.name: screen.run(lambda: actions.reconnect(name), lambda _r: screen.show("devices"),
                                                 ok=("已重新连接", "Reconnected")))


def _storage(screen) -> None:
    """The data dir's disk and the store: what was found last at once, then a fresh look."""
    actions = screen.actions
    _heading(screen, "存储", "Storage")
    banner = Banner(level="error", zh="", en="")
    screen.ids.content.add_widget(banner)
    table = _table(screen, ["项目", "数值"])

    def fill(info: dict[str, Any]) -> None:
        mib = 1024 * 1024
        free, total = info["free_bytes"], info["total_bytes"]
        space = "未知" if free is None else f"{free / mib:.1f} MB / {(total or 0) / mib:.0f} MB"
        interrupted = info["interrupted"]
        cut = "；".join(f"{r['transaction_no']}（{JOURNAL_STATUS_ZH.get(r['status'], r['status'])}）"
                       for r in interrupted[:5])
        table.body = [
            ["数据目录", str(info["path"]).rsplit("/", 1)[0]],
            ["可用空间", f"{space}（最低 {info['min_free_bytes'] / mib:.0f} MB）"],
            ["可写入", "是" if info["writable"] else "否"],
            ["状态", "正常" if info["usable"] else (info["problem"] or "不可用")],
            ["启动时中断的业务", f"{len(interrupted)} 笔" + (f"：{cut}" if cut else "")],
            ["待补写的记录", str(info["deferred"])],
        ]
        if info["usable"]:
            banner.zh = banner.en = ""
        else:
            banner.zh = "终端存储不可用，需要存储的事项已暂停办理"
            banner.en = "The store cannot be used: items that need it are paused"

    fill(actions.storage())
    # a quiet look (not ``screen.run``): the section is redrawn on every device event, and a
    # self-test's message or the busy state must not be taken over by it
    screen.app.worker.submit(lambda: actions.storage(refresh=True), fill, lambda _error: None)


def _card_test(screen, device: str, zh: str, en: str) -> None:
    actions = screen.actions
    screen.run(lambda: actions.self_test_card(device, CARD_WAIT_S),
               lambda text: screen.say(f"读卡成功：{text}", "Card read", "success"),
               busy=(f"{zh}（{CARD_WAIT_S:.0f} 秒内）", en))


# --- paper ------------------------------------------------------------------------------------


def paper(screen) -> None:
    actions = screen.actions
    info = actions.paper()
    if info.near_end:
        screen.ids.content.add_widget(Banner(level="warning", zh="纸卷即将用完，请准备更换",
                                             en="The paper roll is nearly used up"))
    _table(screen, ["项目", "数值"], [
        ["纸张状态", PAPER_ZH.get(info.status, info.status)],
        ["本卷已打印", f"{info.receipts} 张"],
        ["本卷已用", f"{info.used_mm / 1000:.2f} m / {info.roll_length_mm / 1000:.0f} m ({info.used_fraction:.0%})"],
    ])
    grid = _grid(screen, 1)
    _button(grid, "已更换新纸卷（计数清零）", "New roll fitted (reset the counter)",
            lambda: screen.run(actions.reset_roll, lambda _r: screen.show("paper"),
                               ok=("纸卷计数已清零", "Roll counter reset")), kind="primary")


# --- service on / off -------------------------------------------------------------------------


def service(screen) -> None:
    actions = screen.actions
    closed = screen.app.kiosk.journey.maintenance
    _heading(screen, "当前：暂停服务" if closed else "当前：正常服务",
             "Now: out of service" if closed else "Now: in service")
    grid = _grid(screen, 1)
    if closed:
        _button(grid, "恢复服务", "Back into service",
                lambda: screen.run(lambda: actions.set_in_service(True), lambda _r: screen.show("service"),
                                   ok=("终端已恢复服务", "In service")), kind="primary")
    else:
        _button(grid, "暂停服务", "Out of service",
                lambda: screen.run(lambda: actions.set_in_service(False), lambda _r: screen.show("service"),
                                   ok=("终端已暂停服务", "Out of service")), kind="danger")


# --- outbox -----------------------------------------------------------------------------------


def outbox(screen) -> None:
    actions = screen.actions
    table = _table(screen, ["项目", "数值"])

    def fill(stats: dict[str, Any]) -> None:
        age = stats.get("oldest_age_s")
        table.body = [
            ["待上传", "—" if stats["depth"] is None else str(stats["depth"])],
            ["最早一条等待", "—" if age is None else f"{age / 60:.1f} 分钟"],
            ["已上传", "—" if stats["done"] is None else str(stats["done"])],
            ["被拒绝", "—" if stats["failed"] is None else str(stats["failed"])],
            ["后台连接", "正常" if stats["online"] else "中断"],
            ["最近错误", stats["delivery_error"] or stats["last_error"] or "—"],
        ] + ([["上传队列故障", stats["problem"]]] if stats.get("problem") else [])

    screen.run(actions.outbox, fill, busy=("正在读取…", "Reading…"))
    grid = _grid(screen, 1)
    _button(grid, "立即上传", "Deliver now",
            lambda: screen.run(lambda: actions.deliver_now(15.0),
                               lambda left: (screen.say(f"上传完成，剩余 {left} 条", f"{left} left", "success"),
                                             screen.run(actions.outbox, fill)),
                               busy=("正在上传…", "Delivering…")), kind="primary")


# --- journal ----------------------------------------------------------------------------------


def journal(screen) -> None:
    actions = screen.actions
    # days = 0: the one day ``offset`` days ago; days = 7: the last week
    state = screen.state.setdefault("journal", {"days": 0, "offset": 0, "item": None})
    today = dt.date.today()
    days = _grid(screen, 4)
    for zh, en, offset, span in (("今天", "Today", 0, 0), ("昨天", "Yesterday", 1, 0),
                                 ("前天", "2 days ago", 2, 0), ("近7天", "7 days", 0, 7)):
        button = _button(days, zh, en, lambda o=offset, s=span: _journal_filter(screen, offset=o, days=s))
        button.kind = "primary" if (state["offset"], state["days"]) == (offset, span) else "secondary"
    items_box = _grid(screen, 3)
    rows_box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=screen.app.theme.dp("pad") * 0.4)
    rows_box.bind(minimum_height=rows_box.setter("height"))
    screen.ids.content.add_widget(rows_box)

    def load() -> tuple[list[dict], list[tuple[str, str]]]:
        if state["days"]:
            rows = actions.journal(days=state["days"], item=state["item"])
        else:
            rows = actions.journal(date=today - dt.timedelta(days=state["offset"]), item=state["item"])
        week = actions.kiosk.journal.recent(7)  # the item pick-list: what was done this week
        seen = {}
        for r in week:
            seen.setdefault(r["item_id"], r["item_name"])
        return rows, sorted(seen.items())

    def fill(result) -> None:
        rows, items = result
        items_box.clear_widgets()
        for item_id, name in [(None, "全部事项")] + items:
            b = _button(items_box, name, "All items" if item_id is None else "",
                        lambda i=item_id: _journal_filter(screen, item=i))
            b.kind = "primary" if item_id == state["item"] else "secondary"
        rows_box.clear_widgets()
        if not rows:
            rows_box.add_widget(BiLabel(zh="没有记录", en="No entries"))
        for r in rows[:JOURNAL_ROWS_SHOWN]:
            rows_box.add_widget(_journal_row(screen, r))
        if len(rows) > JOURNAL_ROWS_SHOWN:
            rows_box.add_widget(BiLabel(zh=f"另有 {len(rows) - JOURNAL_ROWS_SHOWN} 条，请缩小范围",
                                        en="More entries: narrow the search", role="small"))

    screen.run(load, fill, busy=("正在查询…", "Searching…"))


def _journal_filter(screen, **change: Any) -> None:
    state = screen.state["journal"]
    if "offset" in change:
        state["offset"], state["days"] = change["offset"], change["days"]
    if "item" in change:
        state["item"] = change["item"]
    screen.show("journal")


def _journal_row(screen, r: dict[str, Any]) -> BoxLayout:
    theme = screen.app.theme
    row = BoxLayout(size_hint_y=None, spacing=theme.dp("pad") * 0.5)
    amount = f"  {yuan(int(r['amount_fen']))}" if r.get("amount_fen") is not None else ""
    label = BiLabel(
        zh=f"{dt.datetime.fromtimestamp(r['at']):%m-%d %H:%M}  {r['item_name']}  "
           f"{JOURNAL_STATUS_ZH.get(r['status'], r['status'])}{amount}",
        en=f"{r['transaction_no']}  {r['masked_name']} {r['masked_id']}",
        role="body",
    )
    row.add_widget(label)
    button = BigButton(zh="补打", en="Reprint", kind="secondary", size_hint_x=None, width=theme.dp("target") * 2.2)
    txn = r["transaction_no"]
    button.bind(on_release=lambda _b: screen.run(lambda: screen.actions.reprint(txn),
                                                 busy=("正在补打…", "Printing a copy…"),
                                                 ok=("补打完成", "Copy printed")))
    row.add_widget(button)
    row.height = max(label.height, button.height)
    label.bind(height=lambda _w, h: setattr(row, "height", max(h, button.height)))
    return row


# --- logs, config, diagnostics, restart -------------------------------------------------------


def logs(screen) -> None:
    label = _text(screen, "")
    screen.run(lambda: screen.actions.logs(200), lambda lines: setattr(label, "text", "\n".join(lines) or "（无日志）"),
               busy=("正在读取日志…", "Reading the logs…"))


def config(screen) -> None:
    label = _text(screen, "")

    def load() -> str:
        data = {"version": screen.actions.version(), "config": screen.actions.effective_config()}
        return json.dumps(data, ensure_ascii=False, indent=2)

    screen.run(load, lambda text: setattr(label, "text", text), busy=("正在读取配置…", "Reading the config…"))


def diagnostics(screen) -> None:
    cfg = screen.app.kiosk.config
    target = cfg.resolve(cfg.admin.export_dir)
    screen.ids.content.add_widget(BiLabel(
        zh=f"诊断包（设备状态、日志、配置，不含个人信息）将写入：{target}",
        en="The bundle (status, logs, config; no personal data) is written to the USB stick above",
    ))
    grid = _grid(screen, 1)
    _button(grid, "导出诊断包", "Export diagnostics",
            lambda: screen.run(screen.actions.export_diagnostics,
                               lambda path: screen.say(f"已导出：{path.name}", str(path), "success"),
                               busy=("正在导出…", "Exporting…")), kind="primary")


def restart(screen) -> None:
    armed = screen.state.get("confirm") == "restart"
    screen.ids.content.add_widget(BiLabel(
        zh="重启终端程序：正在办理的业务会结束，系统服务会自动重新启动程序。",
        en="Restart the application: systemd starts it again at once.",
    ))
    grid = _grid(screen, 1)

    def tapped() -> None:
        if not armed:
            screen.state["confirm"] = "restart"
            screen.show("restart")
            return
        screen.run(screen.actions.restart, lambda code: _stop_app(screen, code), busy=("正在重启…", "Restarting…"))

    _button(grid, "再次点击确认重启" if armed else "重启程序", "Tap again to confirm" if armed else "Restart",
            tapped, kind="danger")


def _stop_app(screen, code: int) -> None:
    app = screen.app
    app.exit_code = code  # ``kiosk run`` exits with it (see kiosk.admin.actions.RESTART_EXIT_CODE)
    app.stop()
