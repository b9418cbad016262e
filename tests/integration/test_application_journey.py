"""24-hour 自助申办 through the journey, without a window: the real ID-card reader, document camera,
printer and platform. Fill the form, photograph the materials, pick an 电子证照, sign, submit, take
the 受理回执; then follow the progress by card and by the receipt's code."""

from __future__ import annotations

import pytest

from kiosk.services.application_form import DELIVERY
from kiosk.services.signature import Signature, SignatureError
from kiosk.sim.backend.applications import desk
from kiosk.sim.demo_data import BY_KEY

ITEM = "longevity_allowance"


def start(scripted, resident: str = "zhu_dehua", item: str = ITEM):
    for name in ("idcard", "camera", "printer"):
        scripted.wait_device(name, 15)
    scripted.journey.choose(item)
    scripted.journey.proceed()
    scripted.identify_with_idcard(resident)
    assert scripted.journey.state == "item", scripted.refused
    return scripted.journey.flow


def fill(flow) -> None:
    form = flow.form
    form.set_region("residence", "370921108001")
    form.set_pick("living", "2")
    form.set_number("household_size", "2")
    form.set_pick("bank", "ABC")
    form.set_phone("phone", BY_KEY["zhu_dehua"].phone)
    form.set_delivery("mail_card")


def finish(scripted, outcome) -> None:
    """The result, then the visit ends (the ID card may have left the reader long ago)."""
    scripted.journey.finish(outcome)
    scripted.journey.end("done")
    scripted.leave()


SIGNATURE = Signature(strokes=(((0.1, 0.5), (0.2, 0.7), (0.3, 0.4), (0.45, 0.6)), ((0.5, 0.3), (0.8, 0.6))))


def scan_and_sign(scripted, flow) -> None:
    camera = scripted.kiosk.hub.emulator("camera")
    flow.camera().acquire()
    try:
        camera.show("id_card_front")
        assert flow.capture("id_card") == 1
        camera.show("id_card_back")
        assert flow.capture("id_card") == 2
        flow.use_licence("hukou")
        camera.show("bank_card")
        assert flow.capture("bank_card") == 1
    finally:
        flow.camera().release()
    flow.sign(SIGNATURE)
    flow.confirm(True)


def test_an_application_is_accepted_with_a_number_and_a_receipt(scripted, reference_backend):
    person = BY_KEY["zhu_dehua"]
    flow = start(scripted)
    assert flow.prepare() is None
    assert [x["document"] for x in flow.licences] == ["id_card", "hukou"]
    fill(flow)
    assert not flow.ready()
    scan_and_sign(scripted, flow)
    assert flow.ready() and flow.materials_done()
    outcome = flow.submit()
    assert outcome.ok and not outcome.notice, outcome
    number = flow.answer["application_no"]
    assert outcome.reference == number and number in outcome.message_zh
    # the 受理回执: the number, the item, what was received, the promise, the QR, the delivery
    printer = scripted.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1)
    receipt = printer.documents[-1]
    text = "".join(receipt.text.split())  # as read, across the paper's line breaks
    for expected in ("受理回执", f"办件编号：{number}", "80周岁以上老年人高龄津贴申领", "居民身份证扫描2页",
                     "居民户口簿电子证照", "银行卡或社会保障卡扫描1页", f"承诺办结：{flow.answer['promised_by']}前",
                     "邮寄到身份证地址", "朱**"):
        assert expected in text, expected
    assert person.name not in text and person.id_number not in text
    assert receipt.qr_payloads == [flow.answer["progress_url"]]
    # what the platform received: the full applicant, the form, three scanned pages and the signature
    got = desk(reference_backend).received()[0]
    sent = got["application"]
    assert sent["item_id"] == ITEM and sent["fields"]["bank"]["text"] == "中国农业银行"
    assert sent["delivery"]["address"] == "山东省泰安市宁阳县鹤山镇****"  # the reviewers' view is masked
    kept = desk(reference_backend).stored(number)  # the platform itself holds the full values
    assert kept["delivery"] == {"method": "mail", "to": "card", "region": None, "house": None,
                                "address": person.address, "point": None}
    assert kept["applicant"]["id_number"] == person.id_number and kept["fields"]["phone"]["value"] == person.phone
    assert [m["source"] for m in sent["materials"]] == ["scan", "licence", "scan"]
    assert set(got["files"]) == {"id_card-1.jpg", "id_card-2.jpg", "bank_card-1.jpg", "signature.png", "signature.json"}
    assert all(f["size"] <= 300 * 1024 for name, f in got["files"].items() if name.endswith(".jpg"))
    assert got["corrections"] == []
    # nothing of it stays on the terminal; the journal has it masked
    data = scripted.kiosk.config.data_dir
    assert not list((data / "vault").glob("*/*"))
    rows = scripted.kiosk.outbox.query("SELECT masked_name, masked_id, status FROM journal")
    assert rows == [("朱**", person.id_number[:3] + "*" * 11 + person.id_number[-4:], "completed")]


def test_the_form_and_materials_must_be_complete_and_the_signature_real(scripted):
    flow = start(scripted)
    flow.prepare()
    # the card goes under the document camera: the visit goes on without it on the reader
    scripted.take_card()
    assert scripted.journey.state == "item" and scripted.journey.flow is flow
    assert flow.form.missing()[-1] == DELIVERY
    with pytest.raises(SignatureError):
        flow.sign(Signature(strokes=(((0.5, 0.5), (0.51, 0.5)),)))
    assert not flow.materials_done()
    flow.hand_in_later("hukou")
    assert flow.materials["hukou"].shown()[0] == "稍后补交"


def test_too_young_for_the_allowance_is_told_why_before_anything_is_filled(scripted):
    flow = start(scripted, "li_guilan")
    outcome = flow.prepare()
    assert outcome is not None and not outcome.ok
    assert "须年满80周岁" in outcome.message_zh and "78周岁" in outcome.message_zh


@pytest.fixture
def impatient(tmp_path, reference_backend):
    """A kiosk that waits a second, not twenty, for the 办件编号."""
    from kiosk.bootstrap import bootstrap
    from kiosk.config import load_config
    from kiosk.tours.scripted import ScriptedKiosk
    from tests.support import write_config

    config = load_config(write_config(tmp_path / "quick", reference_backend.url,
                                      **{"wait_for_number_s = 20": "wait_for_number_s = 1"}))
    kiosk = ScriptedKiosk(bootstrap(config)).start()
    yield kiosk
    kiosk.stop()


def test_offline_the_application_is_kept_and_sent_later_then_found_by_card(impatient, reference_backend):
    scripted = impatient
    flow = start(scripted)
    flow.prepare()
    fill(flow)
    scan_and_sign(scripted, flow)
    port = int(reference_backend.url.rsplit(":", 1)[1])
    reference_backend.stop()
    outcome = flow.submit()
    assert outcome.ok and outcome.notice and "申请已保存" in outcome.title_zh
    printer = scripted.kiosk.hub.emulator("printer")
    assert printer.wait_for_documents(1)
    slip = "".join(printer.documents[-1].text.split())
    assert "申请凭条" in slip and f"流水号：{flow.key}" in slip and "网络恢复后本终端将自动提交" in slip
    assert list((scripted.kiosk.config.data_dir / "vault").glob("*/*.sealed"))
    finish(scripted, outcome)
    reference_backend.start("127.0.0.1", port)
    assert scripted.kiosk.delivery.flush(20) == 0
    scripted.pump(lambda: scripted.journey.backend_online, 10, "the terminal to see the backend again")
    row = scripted.kiosk.ports.applications.get(flow.key)
    assert row["status"] == "accepted"
    assert not list((scripted.kiosk.config.data_dir / "vault").glob("*/*"))
    # 办件进度查询 by card finds it, with its number
    progress = start(scripted, item="application_progress")
    cases = progress.load()
    assert [c.number for c in cases] == [row["application_no"]] and cases[0].status_zh == "受理"


def test_progress_by_the_receipts_qr_code_needs_no_card(scripted, reference_backend):
    flow = start(scripted)
    flow.prepare()
    fill(flow)
    scan_and_sign(scripted, flow)
    outcome = flow.submit()
    url, number = flow.answer["progress_url"], flow.answer["application_no"]
    finish(scripted, outcome)
    desk(reference_backend).advance(number, 3)
    journey = scripted.journey
    journey.choose("application_progress")
    journey.proceed()
    assert journey.state == "identify"
    assert journey.begin_with_code(url)
    cases = journey.flow.load()
    assert len(cases) == 1 and cases[0].number == number and cases[0].status_zh == "已寄出"
    assert cases[0].tracking_no and cases[0].steps[-1].note_zh.endswith(cases[0].tracking_no)
    assert journey.session.identity is None



def test_nothing_personal_in_the_logs_the_journal_the_outbox_or_the_diagnostics(scripted, caplog, tmp_path):
    import logging
    import zipfile

    from kiosk.admin.actions import AdminActions
    from kiosk.admin.diagnostics import write_bundle

    person = BY_KEY["zhu_dehua"]
    caplog.set_level(logging.DEBUG)
    flow = start(scripted)
    flow.prepare()
    fill(flow)
    scan_and_sign(scripted, flow)
    outcome = flow.submit()
    assert outcome.ok
    finish(scripted, outcome)
    secrets = (person.name, person.id_number, person.phone, person.address, "北街1号")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "application" in logged and flow.answer["application_no"] in logged
    for secret in secrets:
        assert secret not in logged, secret
    stored = scripted.kiosk.outbox.query("SELECT payload FROM outbox") + scripted.kiosk.outbox.query(
        "SELECT * FROM journal") + scripted.kiosk.outbox.query("SELECT * FROM applications")
    for secret in secrets:
        assert secret not in repr(stored), secret
    bundle = write_bundle(AdminActions(scripted.kiosk), tmp_path)
    with zipfile.ZipFile(bundle) as zf:
        text = "".join(zf.read(name).decode("utf-8", "replace") for name in zf.namelist())
    for secret in secrets:
        assert secret not in text, secret
