"""证明打印, every kind, through every layer without a window.

Real ID-card driver on a pty against the emulator, real HTTP to the reference backend, real
ESC/POS driver against the loopback printer emulator, real PDF files. The CUPS ``lp`` is the
one stand-in (CUPS is not installed): a script that records what it was asked to print.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from kiosk.hardware.base import PaperStatus
from kiosk.sim.backend import accounts
from kiosk.sim.demo_data import BY_KEY
from tests.unit.test_certificate_pdf import pdf_text

#: flow -> (resident who has something to certify, backend kind, title on paper)
KINDS = {
    "contribution_certificate": ("wang_jianguo", "contribution_proof", "个人参保缴费证明"),
    "rights_record": ("wu_haitao", "rights_record", "个人权益记录单"),
    "benefit_certificate": ("zheng_shuzhen", "benefit_proof", "待遇领取证明"),
    "medical_certificate": ("zhou_fang", "medical_contribution_proof", "医保参保缴费证明"),
    "medical_settlement": (None, "medical_settlement", "基本医疗保险统筹费用结算明细单"),
}


def settlement_case(today: dt.date) -> tuple[str, int]:
    """A demo resident and a year with at least one settlement (the data are deterministic)."""
    for year in (today.year, today.year - 1, today.year - 2):
        for key, r in BY_KEY.items():
            if r.medical and accounts.settlements(r, year, today):
                return key, year
    raise AssertionError("no demo resident has a settlement in the last three years")


def no_settlement_year(resident: str, today: dt.date) -> int | None:
    for year in (today.year, today.year - 1, today.year - 2):
        if not accounts.settlements(BY_KEY[resident], year, today):
            return year
    return None


def start(s, flow: str, resident: str):
    item = s.item_for_flow(flow)
    for name in ("idcard", *item.devices):
        s.wait_device(name)
    s.journey.choose(item.id)
    s.journey.proceed()
    s.identify_with_idcard(resident)
    assert s.journey.state == "item", s.refused
    return s.journey.flow


@pytest.mark.parametrize("flow_name", list(KINDS))
def test_every_kind_is_issued_kept_as_pdf_and_printed_once(scripted, reference_backend, kiosk_config, flow_name):
    resident, kind, title = KINDS[flow_name]
    year = None
    if resident is None:
        resident, year = settlement_case(reference_backend.today())
    person = BY_KEY[resident]
    flow = start(scripted, flow_name, resident)
    view = flow.load()
    if year is not None:
        view = flow.choose(year)
    if flow_name != "contribution_certificate":
        assert view.can_print and not view.empty, view
    printer = scripted.kiosk.hub.emulator("printer")

    first = flow.print_certificate()
    second = flow.print_certificate()  # a second press must not print again, nor issue again
    assert first.ok and second.ok, (first, second)
    assert printer.wait_for_documents(1)
    assert not printer.wait_for_documents(2, timeout=0.5)
    paper = printer.documents[0].text.replace("\n", "").replace(" ", "")  # the receipt wraps long lines
    code = scripted.journey.session.data["verification_code"]
    assert title in paper and code in paper
    assert printer.documents[0].qr_payloads and code in printer.documents[0].qr_payloads[0]
    # a certificate names its holder in full, as a counter's does: the office it goes to needs that
    assert person.id_number in paper and person.name in paper

    check = scripted.kiosk.backend.verify_certificate(code)  # the backend issued exactly this one
    assert check["valid"] and check["kind"] == kind and check["title"] == title

    txn = scripted.journey.session.transaction_no
    pdf = kiosk_config.data_dir / "certificates" / f"{txn}-{kind}.pdf"
    png = pdf.with_suffix(".png")
    assert str(pdf) in first.artifacts and str(png) in first.artifacts
    text = pdf_text(pdf)
    assert title in text and code in text and check["certificate_no"] in text
    assert person.id_number in text and person.name in text
    assert png.stat().st_size > 10_000
    if year is not None:
        assert f"{year}" in text and "统筹支付" in text


def test_a_failed_print_is_retried_and_prints_one_certificate(scripted, reference_backend):
    flow = start(scripted, "rights_record", "gao_junjie")
    flow.load()
    printer = scripted.kiosk.hub.emulator("printer")
    printer.set_paper(PaperStatus.OUT)
    failed = flow.print_certificate()
    assert not failed.ok and failed.can_retry == "print" and "缺纸" in failed.message_zh
    assert failed.reference == scripted.journey.session.transaction_no
    code = scripted.journey.session.data["verification_code"]
    printer.set_paper(PaperStatus.FULL)
    assert flow.print_certificate().ok
    assert printer.wait_for_documents(1) and len(printer.documents) == 1
    assert code in printer.documents[0].text  # the retry printed the certificate issued the first time
    scripted.kiosk.delivery.flush(10)
    txn = scripted.journey.session.transaction_no
    journal = [t["payload"] for t in reference_backend.received("transaction") if t["payload"]["transaction_no"] == txn]
    assert len(journal) == 1 and journal[0]["status"] == "completed"


def test_a_lost_answer_from_the_backend_never_issues_a_second_certificate(scripted, reference_backend):
    flow = start(scripted, "medical_certificate", "he_jing")
    flow.load()
    # the backend issues, then the answer is lost: twice, so the client's own resend fails too
    reference_backend.faults.set("drop", count=2, path_prefix="/v1/certificates", when="after")
    failed = flow.print_certificate()
    assert not failed.ok and failed.can_retry == "print"
    assert len(scripted.kiosk.hub.emulator("printer").documents) == 0
    again = flow.print_certificate()
    assert again.ok
    code = scripted.journey.session.data["verification_code"]
    number = scripted.kiosk.backend.verify_certificate(code)["certificate_no"]
    with reference_backend.store.lock:
        issued = reference_backend.store.conn.execute("SELECT certificate_no FROM certificates").fetchall()
    assert issued == [(number,)]


def test_nothing_to_certify_is_said_plainly_and_offers_no_print(scripted):
    flow = start(scripted, "benefit_certificate", "wang_jianguo")  # working, not receiving a pension
    view = flow.load()
    assert view.empty and not view.can_print
    assert "未查询到您的待遇领取记录" in view.message_zh
    assert flow.done().ok  # the resident reads the sentence and finishes
    assert len(scripted.kiosk.hub.emulator("printer").documents) == 0


def test_a_year_without_settlements_is_refused_by_the_backend_in_words(scripted, reference_backend):
    resident = next(k for k, r in BY_KEY.items() if r.medical and no_settlement_year(k, reference_backend.today()))
    year = no_settlement_year(resident, reference_backend.today())
    flow = start(scripted, "medical_settlement", resident)
    flow.load()
    flow.choose(year)
    outcome = flow.print_certificate()
    assert not outcome.ok and not outcome.can_retry  # retrying cannot make a settlement appear
    assert f"{year}年度无统筹费用结算记录" in outcome.message_zh
    assert len(scripted.kiosk.hub.emulator("printer").documents) == 0


def _lp(folder: Path, fail_first: int = 0) -> Path:
    """CUPS's ``lp`` stand-in: fails the first ``fail_first`` calls, records every call."""
    script = folder / "lp"
    script.write_text(
        f"#!{sys.executable}\nimport pathlib, shutil, sys\n"
        f"log = pathlib.Path({str(folder / 'calls.txt')!r})\n"
        "n = len(log.read_text().splitlines()) if log.exists() else 0\n"
        "log.open('a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"if n < {fail_first}:\n    print('lp: printer is stopped', file=sys.stderr); sys.exit(1)\n"
        f"shutil.copy(sys.argv[-1], {str(folder / 'printed.pdf')!r})\n"
        "print('request id is A4-%d (1 file(s))' % (n + 1))\n"
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def a4_scripted(kiosk_config, tmp_path):
    """The kiosk with ``[devices.a4printer] driver = "cups"`` and a real, not simulated, receipt printer slot."""
    from kiosk.bootstrap import bootstrap
    from kiosk.tours.scripted import ScriptedKiosk

    folder = tmp_path / "cups"
    folder.mkdir()
    a4 = SimpleNamespace(driver="cups", queue="A4-Hall", command=str(_lp(folder, fail_first=1)), timeout_s=10)
    config = kiosk_config.model_copy(update={"devices": kiosk_config.devices.model_copy(update={"a4printer": a4})})
    kiosk = ScriptedKiosk(bootstrap(config)).start()
    yield kiosk, folder
    kiosk.stop()


def test_with_an_a4_printer_the_pdf_goes_to_cups_once_and_a_failure_can_be_retried(a4_scripted):
    s, folder = a4_scripted
    person = BY_KEY["zhang_xiuying"]
    flow = start(s, "benefit_certificate", "zhang_xiuying")
    flow.load()
    failed = flow.print_certificate()  # the queue is stopped the first time
    assert not failed.ok and failed.can_retry == "print"
    ok = flow.print_certificate()
    assert ok.ok and "A4" in ok.message_zh
    assert flow.print_certificate().ok  # pressed again: CUPS is not asked again
    calls = (folder / "calls.txt").read_text().splitlines()
    assert len(calls) == 2 and all(c.startswith("-d A4-Hall -t 待遇领取证明") for c in calls)
    assert s.journey.session.data["cups_request"] == "A4-2"
    text = pdf_text(folder / "printed.pdf")
    assert s.journey.session.data["verification_code"] in text and person.id_number in text
    assert len(s.kiosk.hub.emulator("printer").documents) == 0  # not also on the receipt printer
    assert not list((s.kiosk.config.data_dir / "certificates" / "spool").glob("*.pdf"))  # no copy left behind


def test_the_screen_stays_masked_while_the_paper_names_the_holder(scripted):
    person = BY_KEY["liu_yan"]  # a rare character in the name
    flow = start(scripted, "rights_record", "liu_yan")
    view = flow.load()
    assert person.name not in view.who and person.id_number not in view.who
    assert flow.print_certificate().ok
    printer = scripted.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1)
    paper = printer.documents[0].text
    holder = {line.split("：")[0]: line.split("：")[1].strip() for line in paper.splitlines() if "：" in line}
    assert holder["姓名"] == person.name and holder["证件号码"] == person.id_number  # 䶮 survives GB18030


@pytest.fixture
def masking_scripted(kiosk_config):
    """The kiosk of a county that masks the holder on certificates too."""
    from kiosk.bootstrap import bootstrap
    from kiosk.config import CertificatesConfig
    from kiosk.tours.scripted import ScriptedKiosk

    config = kiosk_config.model_copy(update={"certificates": CertificatesConfig(mask_personal_data=True)})
    kiosk = ScriptedKiosk(bootstrap(config)).start()
    yield kiosk
    kiosk.stop()


def test_a_county_that_masks_certificates_gets_the_masked_holder_on_paper(masking_scripted, kiosk_config):
    person = BY_KEY["liu_yan"]
    flow = start(masking_scripted, "rights_record", "liu_yan")
    flow.load()
    assert flow.print_certificate().ok
    printer = masking_scripted.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1)
    paper = printer.documents[0].text
    assert re.search(r"370\*{11}" + re.escape(person.id_number[-4:]), paper) and "刘*" in paper
    assert person.id_number not in paper and person.name not in paper
    txn = masking_scripted.journey.session.transaction_no
    text = pdf_text(kiosk_config.data_dir / "certificates" / f"{txn}-rights_record.pdf")
    assert "370***********" + person.id_number[-4:] in text
    assert person.id_number not in text and person.name not in text
