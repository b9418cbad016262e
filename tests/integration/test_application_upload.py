"""An application reaches the platform through the outbox: files in chunks, exactly once, resumed
after a dropped connection, encrypted on the terminal while they wait and gone once delivered."""

from __future__ import annotations

import hashlib
import json

import pytest

from kiosk.backend.client import BackendClient
from kiosk.backend.delivery import DeliveryWorker
from kiosk.backend.uploads import senders
from kiosk.errors import BackendError
from kiosk.sim.backend import ReferenceBackend
from kiosk.sim.backend.applications import desk
from kiosk.sim.demo_data import BY_KEY
from kiosk.store.applications import Applications
from kiosk.store.outbox import Outbox
from tests.application_support import jpeg_page, queue_application

TERMINAL, SECRET = "T-APPLY", b"apply-secret"


@pytest.fixture
def rig(tmp_path):
    backend = ReferenceBackend(tmp_path / "ref", {TERMINAL: SECRET})
    url = backend.start()
    outbox = Outbox(tmp_path / "terminal" / "outbox.sqlite3")
    apps = Applications(outbox, tmp_path / "terminal" / "vault", SECRET)
    client = BackendClient(url, TERMINAL, SECRET, connect_timeout=1, read_timeout=3)
    worker = DeliveryWorker(outbox, client, senders=senders(apps, client), backoff_base_s=0.05, backoff_max_s=0.2)
    yield {"backend": backend, "outbox": outbox, "apps": apps, "client": client, "worker": worker,
           "dir": tmp_path / "terminal"}
    client.close()
    outbox.close()
    backend.close()


def files_on_disk(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_an_application_reaches_the_platform_once_with_its_materials_and_gets_a_number(rig):
    pages = [jpeg_page(i) for i in range(3)]
    payload = queue_application(rig["apps"], "APP-T-0001", page_bytes=pages)
    form = json.loads(rig["apps"].vault.open("APP-T-0001", "form.json"))
    assert rig["worker"].flush(20) == 0
    row = rig["apps"].get("APP-T-0001")
    assert row["status"] == "accepted" and row["application_no"].startswith("370921")
    received = desk(rig["backend"]).received()
    assert len(received) == 1
    got = received[0]
    assert got["application_no"] == row["application_no"]
    for i, page in enumerate(pages, start=1):
        assert got["files"][f"id_card-{i}.jpg"]["sha256"] == hashlib.sha256(page).hexdigest()
    assert got["application"]["materials"][0]["pages"] == ["id_card-1.jpg", "id_card-2.jpg", "id_card-3.jpg"]
    assert got["corrections"] == []  # readable pages, nothing missing
    # in chunks of at most 32 KiB, every chunk written once
    total = sum(-(-b["size"] // 32768) for b in payload["blobs"])
    assert desk(rig["backend"]).chunk_writes() == total > len(payload["blobs"])
    # the same application again (a resend after a lost answer) is the same 办件
    again = rig["client"].submit_application(form | {"upload_id": got["application"]["upload_id"]}, "APP-T-0001")
    assert again["application_no"] == row["application_no"]
    rig["apps"].queue("APP-T-0001", payload, item_id="x", item_name="x", masked_name="", masked_id="")
    assert rig["outbox"].depth() == 0 and len(desk(rig["backend"]).received()) == 1


def test_materials_are_encrypted_at_rest_while_waiting_and_deleted_once_delivered(rig):
    person = BY_KEY["zhu_dehua"]
    pages = [jpeg_page(i) for i in range(2)]
    rig["backend"].stop()  # the platform is away: the application waits on the terminal
    queue_application(rig["apps"], "APP-T-0003", page_bytes=pages)
    assert rig["worker"].flush(0.5) == 1
    waiting = files_on_disk(rig["dir"])
    sealed = {name: data for name, data in waiting.items() if name.startswith("vault/")}
    assert len(sealed) == 5  # 2 pages, the signature picture and strokes, the form
    for name, data in waiting.items():
        for secret in (person.id_number.encode(), person.name.encode(), person.address.encode(),
                       person.phone.encode(), pages[0][:64], pages[1][-64:], b"\xff\xd8\xff"):
            assert secret not in data, (name, secret[:12])
    for data in sealed.values():
        assert data.startswith(b"KVLT1")
    assert rig["apps"].vault.open("APP-T-0003", "id_card-1.jpg") == pages[0]
    rig["backend"].start(port=int(rig["client"].base_url.rsplit(":", 1)[1]))
    assert rig["worker"].flush(20) == 0
    assert rig["apps"].get("APP-T-0003")["status"] == "accepted"
    assert not [n for n in files_on_disk(rig["dir"]) if n.startswith("vault/")]
    assert not (rig["dir"] / "vault" / "APP-T-0003").exists()


def test_a_sealed_file_moved_to_another_application_does_not_open(rig):
    queue_application(rig["apps"], "APP-T-0004")
    vault = rig["apps"].vault
    source = rig["dir"] / "vault" / "APP-T-0004" / "id_card-1.jpg.sealed"
    (rig["dir"] / "vault" / "APP-T-0004" / "id_card-2.jpg.sealed").write_bytes(source.read_bytes())
    from kiosk.errors import StoreDamagedError

    with pytest.raises(StoreDamagedError):
        vault.open("APP-T-0004", "id_card-2.jpg")
    other = Applications(rig["outbox"], rig["dir"] / "vault", b"another-terminal-secret").vault
    with pytest.raises(StoreDamagedError):
        other.open("APP-T-0004", "id_card-1.jpg")


def test_a_dropped_connection_mid_upload_resumes_where_the_platform_stopped(rig):
    payload = queue_application(rig["apps"], "APP-T-0005")
    total = sum(-(-b["size"] // 32768) for b in payload["blobs"])
    # the platform stores the chunk, then the connection drops before the answer: three times
    rig["backend"].faults.set("drop", path_prefix="/v1/applications/chunks", when="after", count=3)
    assert rig["worker"].flush(20) == 0
    assert rig["backend"].faults.hits == 3
    assert rig["apps"].get("APP-T-0005")["status"] == "accepted"
    # nothing was written twice: each resend found its chunk already held
    assert desk(rig["backend"]).chunk_writes() == total
    assert len(desk(rig["backend"]).received()) == 1


def test_a_refused_application_is_kept_out_of_the_retry_loop_and_its_files_deleted(rig):
    queue_application(rig["apps"], "APP-T-0006", resident="chen_ming")
    # the platform refuses a form whose applicant it does not know
    vault = rig["apps"].vault
    form = json.loads(vault.open("APP-T-0006", "form.json"))
    form["applicant"]["id_number"] = "110101199003077777"
    vault.seal("APP-T-0006", "form.json", json.dumps(form).encode())
    assert rig["worker"].flush(10) == 0
    row = rig["apps"].get("APP-T-0006")
    assert row["status"] == "refused" and "resident_not_found" in row["reason"]
    assert rig["outbox"].stats()["failed"] == 1
    assert not (rig["dir"] / "vault" / "APP-T-0006").exists()


def test_chunks_over_the_cap_are_refused_by_the_platform(rig):
    status = rig["client"].open_upload("APP-T-0007", [{"name": "a.jpg", "size": 40000, "sha256": "0" * 64,
                                                       "media_type": "image/jpeg"}], "APP-T-0007:open")
    with pytest.raises(BackendError) as caught:
        rig["client"].put_chunk(status["upload_id"], "a.jpg", 0, b"x" * 33000, "APP-T-0007:0:0")
    assert caught.value.code in ("chunk_too_large", "invalid_request")
