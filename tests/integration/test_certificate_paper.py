"""What a certificate says, on screen and on paper: the sums, the months, the holder, the seal.

Real ID-card driver on a pty, real HTTP to the reference backend, the real ESC/POS driver
against the loopback printer emulator, real PDF files and SQLite stores.
"""

from __future__ import annotations

import logging
import re

import pytest

from kiosk.errors import BackendError
from kiosk.money import yuan
from kiosk.sim.demo_data import BY_KEY
from tests.integration.test_certificates import start
from tests.integration.test_queries import start as open_query
from tests.unit.test_certificate_pdf import pdf_text

MONEY = re.compile(r"￥\d{1,3}(,\d{3})*\.\d\d")


def printed(scripted) -> list[str]:
    printer = scripted.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1)
    return printer.documents[-1].lines


def rows_on(lines: list[str]) -> list[tuple[str, ...]]:
    """The contribution table's rows as printed (year-month, amount, status)."""
    return [tuple(line.split()) for line in lines if re.match(r"^\d{4}(-\d\d)?\s+￥", line)]


def labelled(lines: list[str]) -> dict[str, str]:
    """``label：value`` lines, a value on the lines after its label joined back."""
    out, label = {}, None
    for line in lines:
        if "：" in line and not line.startswith(" "):
            label, value = line.split("：", 1)
            out[label] = value.strip()
        elif label and line.startswith("  "):
            out[label] += line.strip()
        else:
            label = None
    return out


def test_the_total_counts_only_what_was_paid_and_the_due_stands_apart(scripted):
    flow = start(scripted, "contribution_certificate", "wang_jianguo")
    record = flow.load()
    due = [m for m in record.months if not m.paid]
    assert due and all(m.status == "待缴" for m in due)  # this month is owed, not yet paid
    assert record.paid_fen == sum(m.personal_fen for m in record.months if m.paid)
    assert record.due_fen == sum(m.personal_fen for m in due) > 0
    everything = sum(m.personal_fen for m in record.months)
    assert record.paid_fen == everything - record.due_fen < everything  # the old sum counted the unpaid month
    history = scripted.kiosk.backend.contributions(BY_KEY["wang_jianguo"].id_number, record.year)
    mine = [r for r in history["rows"] if r["scheme"] == record.scheme and r["status"] == "paid"]
    assert record.paid_fen == sum(r["personal_fen"] for r in mine)

    assert flow.print_certificate().ok
    paper = labelled(printed(scripted))
    assert paper["个人缴费合计"] == yuan(record.paid_fen) and paper["应缴未缴"] == yuan(record.due_fen)


def test_the_contribution_history_says_what_is_due_apart_from_what_was_paid(scripted):
    flow = open_query(scripted, "contribution_history_query", "wang_jianguo")
    view = flow.load()
    rows = {r.label_zh: r.value for r in view.sections[0].rows}
    due = [r for r in view.sections[0].table.rows if r[3] == "待缴"]
    assert due and rows["应缴未缴"] == yuan(sum(int(r[2].strip("￥").replace(",", "").replace(".", "")) for r in due))


def test_preview_and_paper_show_the_same_months_and_sums_for_the_range_chosen(scripted, kiosk_config):
    flow = start(scripted, "contribution_certificate", "wang_jianguo")
    flow.load()
    record = flow.choose(scheme="medical_employee")
    year = int(record.end[:4]) - 1
    record = flow.choose(start=f"{year}-07")
    assert record.scheme == "medical_employee" and record.start == f"{year}-07"
    assert record.rows[0][0] == f"{year}-07" and record.rows[-1][0] == record.end
    assert flow.print_certificate().ok

    lines = printed(scripted)
    assert rows_on(lines) == list(record.rows)  # the same rows, in the same words
    paper = labelled(lines)
    for label, value in record.facts:  # the same scheme, range and sums
        assert paper[label] == value, label
    txn = scripted.journey.session.transaction_no
    text = pdf_text(kiosk_config.data_dir / "certificates" / f"{txn}-contribution_proof.pdf").split("\n")
    body = text[text.index("状态") + 1 :]  # the table after its header, on every page
    cells = [c for c in body if re.fullmatch(r"\d{4}-\d\d|￥[\d,.]+|已缴|待缴", c)]
    assert [tuple(cells[i : i + 3]) for i in range(0, 3 * len(record.rows), 3)] == list(record.rows)


def test_the_range_holds_one_to_sixty_months_and_never_turns_round(scripted):
    flow = start(scripted, "contribution_certificate", "wang_jianguo")
    first = flow.load()
    far = flow.choose(start="2015-03")
    assert far.start == "2015-03" and far.end == "2020-02"  # sixty months from the first one
    assert len(far.months) == 60
    back = flow.choose(end="2014-01")
    assert back.start == back.end == "2014-01"  # the first month came along
    ahead = flow.choose(start=first.latest)
    assert ahead.start == ahead.end == first.latest  # never past the last month there is


def test_the_platform_refuses_a_range_of_more_than_sixty_months(scripted):
    with pytest.raises(BackendError) as e:
        scripted.kiosk.backend.certificate(BY_KEY["wang_jianguo"].id_number, "contribution_proof", "cert-61",
                                           scheme="pension_employee", period_from="2015-01", period_to="2020-01")
    assert e.value.code == "bad_period"


def test_the_paper_names_the_holder_in_full_and_nothing_else_keeps_it(scripted, reference_backend, kiosk_config, caplog):
    caplog.set_level(logging.DEBUG)
    person = BY_KEY["wang_jianguo"]
    flow = start(scripted, "contribution_certificate", "wang_jianguo")
    flow.load()
    outcome = flow.print_certificate()
    assert outcome.ok
    paper = labelled(printed(scripted))
    assert paper["姓名"] == person.name and paper["证件号码"] == person.id_number  # as a counter prints it
    txn = scripted.journey.session.transaction_no
    pdf = kiosk_config.data_dir / "certificates" / f"{txn}-contribution_proof.pdf"
    assert person.id_number in pdf_text(pdf) and person.name in pdf_text(pdf)

    scripted.journey.finish(outcome)
    scripted.journey.to_rating()
    scripted.journey.rating_timed_out()
    scripted.take_card()
    scripted.kiosk.delivery.flush(10)

    secrets = (person.id_number, person.name, person.id_number[6:14])  # the number, the name, the birth date
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert txn in logged  # the log did see the certificate go out
    assert not any(s in logged for s in secrets)
    stores = [p for p in kiosk_config.data_dir.rglob("*") if p.is_file() and p.parts[-2] not in ("certificates", "receipts")
              and p.suffix != ".wav"]
    assert any(p.name.startswith("outbox.sqlite3") for p in stores)  # the journal and the outbox live there
    for path in stores:
        data = path.read_bytes()
        assert not any(s.encode() in data for s in secrets), path
    delivered = str([r["payload"] for kind in ("transaction", "rating") for r in reference_backend.received(kind)])
    assert txn in delivered and not any(s in delivered for s in secrets)


def test_the_issued_document_says_it_is_a_specimen_and_the_seal_says_so_on_paper(scripted, kiosk_config):
    flow = start(scripted, "contribution_certificate", "wang_jianguo")
    flow.load()
    assert flow.print_certificate().ok
    page = scripted.journey.session.data["certificate_page"]
    assert page.specimen and page.issuer == "宁阳县社会保险事业中心"
    printer = scripted.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1)
    doc = printer.documents[-1]
    assert len(doc.images) == 1 and doc.images[0].height == 208  # the seal, as a raster
    seal = doc.images[0].image(doc.raw).convert("L")
    assert seal.getpixel((104, 104)) == 0 and seal.getpixel((2, 2)) == 255  # the star inked, the corner paper
    lines = doc.lines
    assert sum("可查验真伪" in line for line in lines) == 1  # the note once
    url = labelled(lines)["核验地址"]
    assert url == scripted.journey.session.data["certificate_page"].verify_url and doc.qr_payloads == [url]
    text = pdf_text(kiosk_config.data_dir / "certificates"
                    / f"{scripted.journey.session.transaction_no}-contribution_proof.pdf").replace("\n", "")
    assert text.count("可查验本证明真伪") == 1 and f"核验地址：{url}" in text
    assert all(MONEY.fullmatch(a) for a in re.findall(r"￥[\d,.]+", text))
