"""The simulated platform's 办件 desk: it checks what it receives as a clerk would, moves the
application along over time, and answers residents (by ID number or the receipt's code) and a
service point's 帮办代办 staff."""

from __future__ import annotations

import io
import json

import pytest
import requests

from kiosk.backend.client import BackendClient
from kiosk.backend.delivery import DeliveryWorker
from kiosk.backend.uploads import senders
from kiosk.sim.backend import ReferenceBackend
from kiosk.sim.backend.applications import desk, tracking_no
from kiosk.sim.demo_data import BY_KEY
from kiosk.store.applications import Applications
from kiosk.store.outbox import Outbox
from tests.application_support import jpeg_page, queue_application

TERMINAL, SECRET = "T-DESK", b"desk-secret"


@pytest.fixture
def rig(tmp_path):
    backend = ReferenceBackend(tmp_path / "ref", {TERMINAL: SECRET})
    url = backend.start()
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    apps = Applications(outbox, tmp_path / "vault", SECRET)
    client = BackendClient(url, TERMINAL, SECRET)
    worker = DeliveryWorker(outbox, client, senders=senders(apps, client))
    yield backend, apps, client, worker
    client.close()
    outbox.close()
    backend.close()


def blurred(seed: int) -> bytes:
    from PIL import Image, ImageFilter

    image = Image.open(io.BytesIO(jpeg_page(seed))).filter(ImageFilter.GaussianBlur(12))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def dark() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (900, 1200), (20, 20, 22)).save(out, "JPEG")
    return out.getvalue()


def submit(rig, key: str, **kw) -> dict:
    _backend, apps, _client, worker = rig
    queue_application(apps, key, **kw)
    assert worker.flush(20) == 0
    return apps.get(key)


def test_unreadable_pages_come_back_as_corrections_with_their_reasons(rig):
    row = submit(rig, "APP-D-0001", page_bytes=[jpeg_page(1), blurred(2), dark()])
    progress = desk(rig[0]).advance(row["application_no"], 2)
    assert progress["status"] == "correction" and progress["status_zh"] == "补正"
    assert progress["corrections"] == ["居民身份证第2页模糊无法辨认，请重新提交清晰的材料",
                                       "居民身份证第3页过暗无法辨认，请重新提交清晰的材料"]
    assert [s["name_zh"] for s in progress["steps"]] == ["受理", "审核", "补正"]


def test_a_required_material_handed_in_later_is_a_correction(rig):
    backend, apps, client, worker = rig
    queue_application(apps, "APP-D-0002")
    form = json.loads(apps.vault.open("APP-D-0002", "form.json"))
    form["materials"].append({"key": "hukou", "name_zh": "居民户口簿", "source": "none", "pages": []})
    apps.vault.seal("APP-D-0002", "form.json", json.dumps(form).encode())
    assert worker.flush(20) == 0
    number = apps.get("APP-D-0002")["application_no"]
    assert desk(backend).advance(number, 5)["corrections"] == ["缺少居民户口簿，请补交"]


def test_an_application_moves_from_acceptance_to_posting_with_a_tracking_number(rig):
    backend, apps, client, _worker = rig
    row = submit(rig, "APP-D-0003")
    number = row["application_no"]
    answer = row["answer"]
    assert answer["promised_by"] > answer["accepted_at"][:10]
    assert answer["materials"] == [{"key": "id_card", "name_zh": "居民身份证", "source": "scan", "pages": 3}]
    person = BY_KEY["zhu_dehua"]
    listed = client.application_progress(person.id_number)
    assert [a["application_no"] for a in listed["applications"]] == [number]
    assert listed["applications"][0]["status_zh"] == "受理"
    assert desk(backend).advance(number, 1)["status_zh"] == "审核"
    done = desk(backend).advance(number, 1)
    assert done["status_zh"] == "办结" and done["tracking_no"] is None
    # the test form asks for pickup: the last step says where
    last = desk(backend).advance(number, 1)
    assert last["status"] == "ready" and "葛石镇便民服务中心" in last["steps"][-1]["note_zh"]
    by_code = client.application_progress_by_code(answer["progress_code"])
    assert by_code["application_no"] == number and by_code["masked_name"] == "朱**"
    # the receipt's QR opens the public page: masked, no signature needed
    page = requests.get(answer["progress_url"], timeout=5).json()
    assert page["status"] == "ready" and person.name not in json.dumps(page, ensure_ascii=False)


def test_a_posted_result_carries_its_tracking_number(rig):
    backend, apps, client, worker = rig
    queue_application(apps, "APP-D-0004")
    form = json.loads(apps.vault.open("APP-D-0004", "form.json"))
    form["delivery"] = {"method": "mail", "to": "card", "address": BY_KEY["zhu_dehua"].address}
    apps.vault.seal("APP-D-0004", "form.json", json.dumps(form, ensure_ascii=False).encode())
    assert worker.flush(20) == 0
    number = apps.get("APP-D-0004")["application_no"]
    posted = desk(backend).advance(number, 3)
    assert posted["status_zh"] == "已寄出" and posted["tracking_no"] == tracking_no(number)
    assert posted["steps"][-1]["note_zh"] == f"快递单号 {tracking_no(number)}"


def test_staff_see_the_applications_of_their_point(rig):
    _backend, _apps, client, _worker = rig
    submit(rig, "APP-D-0005")
    submit(rig, "APP-D-0006", resident="li_guilan")
    mine = client.point_applications("葛石镇便民服务中心")
    assert len(mine["applications"]) == 2
    assert {a["masked_name"] for a in mine["applications"]} == {"朱**", "李**"}
    # the county centre has the applications handed in at its windows, not this terminal's
    county = {a["application_no"] for a in client.point_applications("宁阳县政务服务中心")["applications"]}
    assert county and not county & {a["application_no"] for a in mine["applications"]}


def test_applications_handed_in_at_a_window_show_their_progress_too(rig):
    listed = rig[2].application_progress(BY_KEY["liu_yan"].id_number)["applications"]
    assert [a["status_zh"] for a in listed] == ["补正", "已寄出"]
    assert listed[0]["corrections"] == ["居民身份证第2页模糊无法辨认，请重新提交清晰的材料"]
    assert listed[1]["tracking_no"] == tracking_no(listed[1]["application_no"])
    assert listed[0]["masked_name"] == "刘*"


def test_the_platform_lists_the_licences_it_holds(rig):
    client = rig[2]
    local = client.licences(BY_KEY["zhu_dehua"].id_number)["licences"]
    assert [x["document"] for x in local] == ["id_card", "hukou"]
    young = client.licences(BY_KEY["he_jing"].id_number)["licences"]
    assert "diploma" in [x["document"] for x in young]
    elsewhere = client.licences(BY_KEY["zhao_li"].id_number)["licences"]
    assert [x["document"] for x in elsewhere] == ["id_card", "diploma"]
