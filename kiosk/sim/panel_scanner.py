"""The simulator panel's 扫码器 tab: hold a phone to the emulated scanner.

Each button plays a resident's phone: the simulated platform issues a fresh 电子社保卡 or
电子身份证 code for a demo resident (``kiosk.sim.backend.tokens``), or one of its demo payment
codes is shown (``kiosk.sim.backend.paycode``: paid, the payer entering the password, never
confirmed, insufficient funds, a lost answer, expired, used), and the emulator sends it down
the pty to the real driver. Broken codes (expired, used, forged, not a code, bytes that are
no text) and the scanner's cable are here too.
"""

from __future__ import annotations

from typing import Any

from kiosk.sim.demo_data import RESIDENTS

#: bytes that are neither UTF-8 nor GB18030: a damaged code, or a scanner set to another mode
GARBAGE = b"\x81\x20\x80\x80\xfe\x7f"


def fill(panel: Any, box: Any, scanner: Any) -> None:
    """The tab's rows into ``box``; ``scanner`` is the emulator (None: no scanner here)."""
    platform = panel.platform
    if scanner is None:
        return

    def token(resident: str, kind: str = "e_sscard", **spec: Any) -> Any:
        from kiosk.sim.backend import tokens

        return lambda: scanner.scan(tokens.issue(platform, resident, kind, **spec))

    if platform is not None:
        for r in RESIDENTS:
            row = panel.row(r.name, "电子社保卡 / 电子身份证二维码", "e-card / e-ID code on the phone")
            row.add_widget(panel.button("出示电子社保卡", "Show e-SS card", token(r.key)))
            row.add_widget(panel.button("出示电子身份证", "Show e-ID", token(r.key, "e_id")))
            box.add_widget(row)
        row = panel.row("异常二维码", "过期、已使用、伪造", "expired, used, forged")
        row.add_widget(panel.button("过期的码", "Expired code", token("wang_jianguo", age_s=61)))
        row.add_widget(panel.button("已用过的码", "Used code", token("wang_jianguo", used=True)))
        row.add_widget(panel.button("伪造的码", "Forged code",
                                    lambda: scanner.scan("ESSC1.0123456789abcdef.0000000000000000")))
        box.add_widget(row)
        from kiosk.sim.backend import paycode

        for code, scenario in paycode.DEMO_CODES.items():
            row = panel.row(scenario.label_zh, "手机付款码（被扫）", "payment code on the phone")
            row.add_widget(panel.button("出示此付款码", "Show this code", lambda c=code: scanner.scan(c)))
            box.add_widget(row)
    row = panel.row("乱码与设备", "无法识别的内容、断开重连", "unreadable codes, the cable")
    row.add_widget(panel.button("非证件文本", "Plain text", lambda: scanner.scan("HELLO-KIOSK-2026")))
    row.add_widget(panel.button("乱码", "Garbage bytes", lambda: scanner.scan(GARBAGE)))
    box.add_widget(row)
    row = panel.row("扫码器连线", "拔出后重新插入（带上电杂波）", "unplug, plug back with power-up noise")
    row.add_widget(panel.button("拔出扫码器", "Unplug", scanner.unplug))
    row.add_widget(panel.button("插回扫码器", "Plug back", lambda: scanner.replug(with_noise=True)))
    box.add_widget(row)
