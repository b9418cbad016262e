"""ESC/POS bytes of a receipt: golden bytes, Chinese mode, QR, cut and copy marking."""

from __future__ import annotations

import re

import pytest

from kiosk.hardware.receipt_escpos import display_width, render_receipt, wrap_columns
from kiosk.receipt import Receipt

SMALL = Receipt(
    title="缴费凭证",
    transaction_no="T0001",
    issued_at="2026-11-23 17:45:02",
    terminal_id="K1",
    lines=(("姓名", "刘*"),),
    amount_fen=1234,
    qr_payload="https://v.example/T0001",
    footer=("谢谢",),
)

# Written out by hand from the ESC/POS and GB18030 tables, one printed line per row.
SMALL_GOLDEN_24 = (
    b"\x1b@"  # ESC @ init
    b"\x1ba\x01\x1bE\x01\x1d!\x11"  # centre, bold, double width+height
    b"\x1c&\xbd\xc9\xb7\xd1\xc6\xbe\xd6\xa4\x1c.\n"  # FS & 缴费凭证 FS .
    b"\x1d!\x00\x1bE\x00\x1ba\x00------------------------\n"
    b"\x1c&\xc1\xf7\xcb\xae\xba\xc5\xa3\xba           T0001\x1c.\n"  # 流水号：
    b"\x1c&\xca\xb1\xbc\xe4\xa3\xba\x1c.\n"  # 时间： (the value does not fit beside it)
    b"  2026-11-23 17:45:02\n"
    b"\x1c&\xd6\xd5\xb6\xcb\xa3\xba                K1\x1c.\n"  # 终端：
    b"\x1c&\xd0\xd5\xc3\xfb\xa3\xba               \xc1\xf5*\x1c.\n"  # 姓名： 刘*
    b"------------------------\n"
    b"\x1bE\x01\x1d!\x01"  # bold, double height
    b"\x1c&\xba\xcf\xbc\xc6\xbd\xf0\xb6\xee\xa3\xba       \xa3\xa412.34\x1c.\n"  # 合计金额： ￥12.34
    b"\x1d!\x00\x1bE\x00------------------------\n"
    b"\x1ba\x01"
    b"\x1d(k\x04\x001A2\x00"  # QR model 2
    b"\x1d(k\x03\x001C\x06"  # module size 6
    b"\x1d(k\x03\x001E1"  # error level M
    b"\x1d(k\x1a\x001P0https://v.example/T0001"  # store
    b"\x1d(k\x03\x001Q0\n"  # print
    b"\x1c&\xd0\xbb\xd0\xbb\x1c.\n"  # 谢谢
    b"\x1ba\x00\x1bd\x04\x1dV\x00"  # left, feed 4, full cut
)


def chinese_segments(data: bytes) -> list[bytes]:
    return re.findall(rb"\x1c&(.*?)\x1c\.", data, re.S)


def test_small_receipt_matches_the_golden_bytes():
    assert render_receipt(SMALL, width_chars=24) == SMALL_GOLDEN_24


def test_rendering_is_deterministic():
    assert render_receipt(SMALL) == render_receipt(SMALL)


def test_yuan_sign_and_fullwidth_punctuation_are_gb18030_inside_chinese_mode():
    data = render_receipt(SMALL)
    segments = chinese_segments(data)
    assert any("￥".encode("gb18030") in s for s in segments)  # A3 A4
    assert any("：".encode("gb18030") in s for s in segments)
    receipt = Receipt("凭证", "T1", "2026-01-01 00:00:00", "K1", lines=(("标点", "，：（）"),))
    segments = chinese_segments(render_receipt(receipt))
    assert any("，：（）".encode("gb18030") in s for s in segments)
    # nothing Chinese leaks outside FS & ... FS .
    outside = re.sub(rb"\x1c&.*?\x1c\.", b"", data, flags=re.S)
    outside = re.sub(rb"\x1d\(k.*?1Q0", b"", outside, flags=re.S)
    assert all(b < 0x80 for b in outside)


def test_rare_name_character_survives_gb18030():
    receipt = Receipt("凭证", "T1", "2026-01-01 00:00:00", "K1", lines=(("姓名", "刘䶮"),))
    segments = chinese_segments(render_receipt(receipt))
    assert any("刘䶮".encode("gb18030") in s for s in segments)
    decoded = b"".join(segments).decode("gb18030")
    assert "刘䶮" in decoded


def test_gbk_printers_get_gbk_bytes():
    data = render_receipt(SMALL, encoding="gbk")
    assert "缴费凭证".encode("gbk") in data


def test_qr_uses_native_gs_paren_k_and_is_small():
    data = render_receipt(SMALL)
    start = data.index(b"\x1d(k")
    end = data.index(b"\x1d(k\x03\x001Q0") + 8
    qr = data[start:end]
    assert b"\x1d(k\x04\x001A2\x00" in qr and b"\x1d(k\x03\x001E1" in qr
    assert b"1P0https://v.example/T0001" in qr
    assert len(qr) < 100  # a raster image of the same code is several KB


def test_receipt_starts_with_init_and_ends_with_feed_and_cut():
    data = render_receipt(SMALL)
    assert data.startswith(b"\x1b@")
    assert data.endswith(b"\x1bd\x04\x1dV\x00")


def test_copy_is_marked_and_original_is_not():
    copy = Receipt(**{**SMALL.__dict__, "is_copy": True})
    marked = b"".join(chinese_segments(render_receipt(copy))).decode("gb18030")
    plain = b"".join(chinese_segments(render_receipt(SMALL))).decode("gb18030")
    assert marked.count("补打 COPY") == 2  # at the top and at the bottom
    assert "补打" not in plain


def test_lines_never_exceed_the_paper_width():
    receipt = Receipt(
        "城乡居民基本养老保险个人权益记录单",
        "T20261123000123",
        "2026-11-23 17:45:02",
        "NY-370921-0001",
        lines=(("参保地址", "山东省泰安市宁阳县葛石镇某某村某某街道一百二十三号"),),
        table_header=("年月", "险种", "缴费基数", "个人缴纳"),
        table_rows=(("2026-01", "城乡居民基本养老保险", "3000.00", "200.00"),),
        amount_fen=20000,
    )
    for width in (32, 48):
        data = render_receipt(receipt, width_chars=width)
        text = re.sub(rb"\x1b[@aEd].?|\x1d!.|\x1dV.|\x1c[&.]", b"", data).decode("gb18030")
        for line in text.split("\n"):
            limit = width // 2 if "权益" in line else width  # the title is double width
            assert display_width(line) <= limit, line


def test_display_width_counts_cjk_as_two_columns():
    assert display_width("刘䶮") == 4
    assert display_width("￥12") == 4
    assert display_width("AB") == 2
    assert wrap_columns("一二三四", 5) == ["一二", "三四"]
    with pytest.raises(ValueError):
        wrap_columns("x", 1)


def printed_lines(data: bytes) -> list[str]:
    text = re.sub(rb"\x1b[@aEd].?|\x1d!.|\x1dV.|\x1c[&.]", b"", data)
    text = re.sub(rb"\x1d\(k.*?1Q0", b"", text, flags=re.S)
    return text.decode("gb18030").split("\n")


TXN = "NY-370921-0001-20261123101010-AB12"  # what the journey makes: terminal, time, random


@pytest.mark.parametrize("width", [32, 48])
def test_the_transaction_number_never_breaks_inside_a_number(width):
    receipt = Receipt("缴费凭证", TXN, "2026-11-23 10:10:10", "NY-370921-0001")
    lines = printed_lines(render_receipt(receipt, width_chars=width))
    start = next(i for i, line in enumerate(lines) if line.startswith("流水号"))
    block = [line.replace("流水号：", "").strip() for line in lines[start : start + 3]]
    number = "".join(block).split("时间")[0]
    assert number.startswith(TXN)  # nothing lost, nothing in between
    held = [piece for line in block for piece in line.split("-") if piece]
    assert set(TXN.split("-")) <= set(held)  # every group of digits whole on one line
    if width == 48:
        assert any(TXN in line for line in lines)  # it fits beside its label: one line


def test_a_certificate_carries_its_seal_as_a_raster_above_the_qr_code():
    from kiosk.hardware.receipt_escpos import SEAL_DOTS
    from kiosk.seal import Seal

    receipt = Receipt(**{**SMALL.__dict__, "seal": Seal("宁阳县社会保险事业中心", specimen=True),
                         "closing": (("出具单位", "宁阳县社会保险事业中心"),)})
    data = render_receipt(receipt)
    head = b"\x1dv0\x00" + bytes((SEAL_DOTS // 8, 0, SEAL_DOTS & 0xFF, SEAL_DOTS >> 8))
    at = data.index(head)
    bits = data[at + len(head) : at + len(head) + SEAL_DOTS * SEAL_DOTS // 8]
    assert 0.08 < sum(bin(b).count("1") for b in bits) / (SEAL_DOTS * SEAL_DOTS) < 0.5  # ink, not a block
    assert data.rindex(b"\x1ba\x01", 0, at) > data.index("出具单位".encode("gb18030"))  # centred, after the issuer
    assert at < data.index(b"\x1d(k")  # the seal above the QR code
    assert head not in render_receipt(SMALL)  # a payment receipt has none
