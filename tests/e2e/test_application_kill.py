"""A terminal killed (SIGKILL) in the middle of uploading an application: restarted, it goes on
from where the platform stopped, sends no chunk twice, and the platform files the application
once with every page intact; the sealed files leave the terminal only then."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from kiosk.sim.backend import ReferenceBackend
from kiosk.sim.backend.applications import desk
from kiosk.store.applications import Applications
from kiosk.store.outbox import Outbox
from tests.application_support import jpeg_page, queue_application

TERMINAL, SECRET = "T-KILL", b"kill-secret"

SENDER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from kiosk.backend.client import BackendClient
    from kiosk.backend.delivery import DeliveryWorker
    from kiosk.backend.uploads import ApplicationSender
    from kiosk.store.applications import Applications
    from kiosk.store.outbox import Outbox

    url, terminal, secret, folder = sys.argv[1], sys.argv[2], sys.argv[3].encode(), Path(sys.argv[4])
    outbox = Outbox(folder / "outbox.sqlite3")
    apps = Applications(outbox, folder / "vault", secret)
    client = BackendClient(url, terminal, secret, connect_timeout=1, read_timeout=5)
    sender = ApplicationSender(apps, client)
    worker = DeliveryWorker(outbox, client, senders={"application": sender}, backoff_base_s=0.05, backoff_max_s=0.2)
    left = worker.flush(60)
    print(json.dumps({"left": left, "chunks_sent": sender.chunks_sent}), flush=True)
    """
)


def test_kill_9_mid_upload_resumes_and_files_the_application_once(tmp_path):
    backend = ReferenceBackend(tmp_path / "ref", {TERMINAL: SECRET})
    url = backend.start()
    folder = tmp_path / "terminal"
    outbox = Outbox(folder / "outbox.sqlite3")
    apps = Applications(outbox, folder / "vault", SECRET)
    pages = [jpeg_page(i) for i in range(3)]
    payload = queue_application(apps, "APP-KILL-0001", page_bytes=pages)
    outbox.close()
    total = sum(-(-b["size"] // 32768) for b in payload["blobs"])
    script = tmp_path / "sender.py"
    script.write_text(SENDER)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    command = [sys.executable, str(script), url, TERMINAL, SECRET.decode(), str(folder)]
    chunks = desk(backend)
    try:
        # every chunk takes a while at the platform: the kill lands mid-upload
        backend.faults.set("slow", path_prefix="/v1/applications/chunks", delay_s=0.25)
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while chunks.chunk_writes() < 4:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "no chunks arrived"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        written_before = chunks.chunk_writes()
        assert 4 <= written_before < total
        assert desk(backend).received() == []  # not filed: the upload was cut short
        backend.faults.clear()
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        report = json.loads(rerun.stdout.strip().splitlines()[-1])
        assert report["left"] == 0
        # resumed where the platform stopped: only the missing chunks were sent (a restart from
        # the beginning would send all of them), and none was written twice
        assert 0 < report["chunks_sent"] <= total - written_before
        assert chunks.chunk_writes() == total
        received = desk(backend).received()
        assert len(received) == 1
        for i, page in enumerate(pages, start=1):
            assert received[0]["files"][f"id_card-{i}.jpg"]["sha256"] == hashlib.sha256(page).hexdigest()
        outbox = Outbox(folder / "outbox.sqlite3")
        row = Applications(outbox, folder / "vault", SECRET).get("APP-KILL-0001")
        assert row["status"] == "accepted" and row["application_no"] == received[0]["application_no"]
        assert not (folder / "vault" / "APP-KILL-0001").exists()
        outbox.close()
    finally:
        backend.close()
