"""The A4 certificate: the PDF embeds the CJK font and says what the page says; the PNG matches.

``pdf_text`` reads the text back out of a PDF the way a viewer's search does (through the
font's ToUnicode map), so the tests check the words really are in the file, not only that a
file was written. No PDF reader library is installed, so it is written here, for fpdf2's
output only.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from kiosk.errors import PrinterError
from kiosk.hardware.a4printer import CupsA4Printer
from kiosk.services import certificate_pdf as cp


def _streams(data: bytes) -> list[bytes]:
    """Every stream's bytes, inflated when flate-compressed.

    A stream is cut by the ``/Length`` in its dictionary, never by looking for ``endstream``:
    compressed bytes may themselves end in ``\\r``, which a pattern would take for the line end.
    """
    out, pos = [], 0
    while m := re.compile(rb">>\s*stream\r?\n").search(data, pos):
        head = data[data.rfind(b" obj", 0, m.start()) : m.start()]
        length = int(re.findall(rb"/Length (\d+)", head)[-1])
        raw = data[m.end() : m.end() + length]
        out.append(zlib.decompress(raw) if b"/FlateDecode" in head else raw)
        pos = m.end() + length  # never look for a stream inside another's bytes
    return out


def _unescape(s: bytes) -> bytes:
    out, i = bytearray(), 0
    escapes = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
    while i < len(s):
        c = s[i]
        if c == 0x5C and i + 1 < len(s):  # backslash
            nxt = s[i + 1]
            if nxt in escapes:
                out.append(escapes[nxt])
                i += 2
            elif 0x30 <= nxt <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", s[i + 1 : i + 4]).group()
                out.append(int(digits, 8) & 0xFF)
                i += 1 + len(digits)
            else:
                out.append(nxt)
                i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def pdf_text(path: Path) -> str:
    """Every string shown with Tj in the PDF, decoded through the ToUnicode map, one per line."""
    streams = _streams(Path(path).read_bytes())
    cmap: dict[int, str] = {}
    for s in streams:
        if b"beginbfchar" in s or b"beginbfrange" in s:
            for block in re.findall(rb"beginbfchar(.*?)endbfchar", s, re.S):
                for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                    cmap[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
            for block in re.findall(rb"beginbfrange(.*?)endbfrange", s, re.S):
                for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                    base = int(dst, 16)
                    for n, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                        cmap[code] = chr(base + n)
    lines = []
    for s in streams:
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", s, re.S):
            raw = _unescape(literal)
            lines.append("".join(cmap.get(int.from_bytes(raw[i : i + 2], "big"), "?") for i in range(0, len(raw), 2)))
    return "\n".join(lines)


def sample(rows: int = 3, **over) -> cp.CertificatePage:
    fields = dict(
        title="个人权益记录单", certificate_no="ZM20261123000007", verification_code="1A2B-3C4D-5E6F-7081",
        verify_url="http://127.0.0.1:8765/v1/certificates/verify?code=1A2B-3C4D-5E6F-7081",
        issuer="宁阳县社会保险事业中心", issued_on=dt.date(2026, 11, 23), terminal_id="NY-370921-0001",
        transaction_no="NY-370921-0001-20261123101010-AB12",
        lines=(("姓名", "刘*"), ("证件号码", "370***********061X"), ("记录截至", "2026-11-23")),
        table_header=("险种", "累计月数", "个人账户(元)", "最近缴费"),
        table_rows=tuple(("企业职工基本养老保险", str(100 + i), "12345.00", "2026-10") for i in range(rows)),
        footer=("本证明仅证明打印之日前的情况",),
    )
    fields.update(over)
    return cp.CertificatePage(**fields)


def test_the_pdf_embeds_the_cjk_font_and_carries_every_word(tmp_path):
    pdf = cp.write_pdf(sample(title="个人权益记录单 刘䶮"), tmp_path / "c.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert b"/FontFile3" in data and b"/CIDFontType0C" in data  # the OTF's CFF outlines, embedded
    assert b"/MediaBox [0 0 595.28 841.89]" in data  # A4
    text = pdf_text(pdf)
    for words in ("个人权益记录单 刘䶮", "1A2B-3C4D-5E6F-7081", "宁阳县社会保险事业中心", "2026年11月23日",
                  "ZM20261123000007", "370***********061X", "企业职工基本养老保险", "本证明仅证明打印之日前的情况",
                  "NY-370921-0001-20261123101010-AB12"):
        assert words in text, words
    assert "?" not in text.replace("verify?", "")  # every glyph maps back to its character


def test_a_long_table_continues_on_a_second_page_with_its_header(tmp_path):
    pages = cp.layout(sample(rows=30))
    assert len(pages) == 2
    second = [m.text for m in pages[1].marks if isinstance(m, cp.Text)]
    assert "险种" in second and any("（续）" in t for t in second)
    assert any("第 2 / 2 页" in t for t in second)
    for page in pages:  # nothing is drawn off the paper
        for m in page.marks:
            if isinstance(m, cp.Text):
                assert cp.MARGIN - 0.01 <= m.x and m.x + cp.text_width(m.text, m.size) <= cp.PAGE_W - cp.MARGIN + 0.5
                assert 0 < m.y < cp.PAGE_H
    qr_pages = [n for n, p in enumerate(pages) if any(isinstance(m, cp.Qr) for m in p.marks)]
    assert qr_pages == [1]  # the verification block sits once, after the table


def test_long_cells_wrap_inside_their_column():
    lines = cp.wrap("宁阳县第一人民医院住院部统筹结算中心", 20, 10.5)
    assert len(lines) > 1 and "".join(lines) == "宁阳县第一人民医院住院部统筹结算中心"
    assert all(cp.text_width(line, 10.5) <= 20 for line in lines)


def test_the_png_preview_draws_the_same_page(tmp_path):
    png = cp.render_png(sample(), tmp_path / "c.png", dpi=100)
    image = Image.open(png).convert("L")
    assert image.size == (round(210 / 25.4 * 100), round(297 / 25.4 * 100))
    assert ImageStat.Stat(image).stddev[0] > 20  # text, rules and the QR code, not a blank sheet
    qr = cp.layout(sample())[0].marks
    box = next(m for m in qr if isinstance(m, cp.Qr))
    px = 100 / 25.4
    inside = image.crop((round(box.x * px), round(box.y * px), round((box.x + box.size) * px),
                         round((box.y + box.size) * px)))
    beside = image.crop((2, round(box.y * px), round(box.x * px) - 2, round((box.y + box.size) * px)))
    assert ImageStat.Stat(inside).mean[0] < 200  # the QR code is where the layout put it
    assert ImageStat.Stat(beside).mean[0] > 250  # and the margin next to it is blank paper


def test_save_writes_both_files(tmp_path):
    pdf, png = cp.save(sample(), tmp_path / "certificates", "T-1-rights_record")
    assert pdf.name == "T-1-rights_record.pdf" and pdf.stat().st_size > 3000
    assert png.name == "T-1-rights_record.png" and png.stat().st_size > 3000


def _fake_lp(folder: Path, code: int = 0) -> Path:
    """A stand-in for CUPS's ``lp`` (CUPS is not installed here): records its arguments."""
    script = folder / "lp"
    script.write_text(
        f"#!{sys.executable}\nimport sys, pathlib\n"
        f"pathlib.Path({str(folder / 'calls.txt')!r}).open('a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"print('request id is A4-7 (1 file(s))') if {code} == 0 else print('lp: No such queue', file=sys.stderr)\n"
        f"sys.exit({code})\n"
    )
    script.chmod(0o755)
    return script


def test_submit_to_cups_passes_the_queue_and_reads_the_request_id(tmp_path):
    pdf = cp.write_pdf(sample(), tmp_path / "c.pdf")
    lp = _fake_lp(tmp_path)
    assert CupsA4Printer("A4", str(lp)).submit(pdf, "个人权益记录单") == "A4-7"
    call = (tmp_path / "calls.txt").read_text().split()
    assert call[:2] == ["-d", "A4"] and "media=A4" in call and call[-1] == str(pdf)


def test_a_refused_or_missing_lp_is_a_printer_error(tmp_path):
    pdf = cp.write_pdf(sample(), tmp_path / "c.pdf")
    with pytest.raises(PrinterError) as refused:
        CupsA4Printer("nowhere", str(_fake_lp(tmp_path, code=1))).submit(pdf, "t")
    assert refused.value.retryable and "No such queue" in str(refused.value)
    with pytest.raises(PrinterError) as missing:
        CupsA4Printer("A4", str(tmp_path / "no-lp-here")).submit(pdf, "t")
    assert not missing.value.retryable



def test_the_reader_takes_a_stream_by_its_length_even_when_its_bytes_end_in_cr():
    # About one compressed stream in 256 ends in a CR byte; cut at "\r\nendstream" it would not inflate.
    body = next(b for n in range(10_000) if zlib.compress(b := b"BT (%d) Tj ET" % n).endswith(b"\r"))
    packed = zlib.compress(body)
    data = b"4 0 obj\n<</Filter /FlateDecode /Length %d>>\nstream\n%s\nendstream\nendobj\n" % (len(packed), packed)
    assert _streams(data) == [body]


def test_the_verification_note_is_printed_once_with_the_address():
    text = pdf_text(cp.write_pdf(sample(footer=("本证明仅证明打印之日前的情况",)), Path(".tmp") / "once.pdf"))
    flat = text.replace("\n", "")
    assert flat.count("可查验本证明真伪") == 1  # the platform's footer no longer repeats it
    assert "核验地址：http://127.0.0.1:8765/v1/certificates/verify?code=1A2B-3C4D-5E6F-7081" in flat


def test_the_seal_is_stamped_across_the_issuer_and_says_what_the_document_says():
    marks = cp.layout(sample(specimen=True))[0].marks
    stamp = next(m for m in marks if isinstance(m, cp.Stamp))
    assert stamp.seal.issuer == "宁阳县社会保险事业中心" and stamp.seal.purpose == "样章"
    issuer = next(m for m in marks if isinstance(m, cp.Text) and m.text.startswith("出具单位"))
    name_from = issuer.x + cp.text_width("出具单位：", issuer.size)
    assert stamp.y < issuer.y < stamp.y + stamp.size  # across the issuer's line ...
    assert name_from < stamp.x + stamp.size / 2 < issuer.x + cp.text_width(issuer.text, issuer.size)  # ... on the name
    assert next(m for m in cp.layout(sample())[0].marks if isinstance(m, cp.Stamp)).seal.purpose == "证明专用章"


def test_the_seal_is_red_over_the_text_in_the_preview(tmp_path):
    png = cp.render_png(sample(), tmp_path / "c.png", dpi=100)
    image = Image.open(png).convert("RGB")
    px = 100 / 25.4
    stamp = next(m for m in cp.layout(sample())[0].marks if isinstance(m, cp.Stamp))
    box = tuple(round(v * px) for v in (stamp.x, stamp.y, stamp.x + stamp.size, stamp.y + stamp.size))
    r, g, b = (ImageStat.Stat(image.crop(box)).mean[i] for i in range(3))
    assert r > g + 20 and r > b + 20  # red ink


@pytest.mark.parametrize("rows", range(8, 48, 3))
def test_the_seal_never_stands_alone_on_a_page(rows):
    for page in cp.layout(sample(rows=rows)):
        if any(isinstance(m, cp.Stamp) for m in page.marks):
            cells = [m for m in page.marks if isinstance(m, cp.Text) and m.text == "企业职工基本养老保险"]
            assert cells, f"{rows} rows: the seal's page certifies nothing"


def test_the_holder_in_full_stays_out_of_the_repr():
    page = sample(lines=(("姓名", "刘䶮"), ("证件号码", "370921198804056031")))
    assert "370921198804056031" not in repr(page) and "刘䶮" not in repr(page)
