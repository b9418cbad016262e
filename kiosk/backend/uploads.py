"""The sender of applications: sealed files uploaded in chunks, resumed, then submitted once.

The delivery worker hands every outbox row of kind ``application`` to ``ApplicationSender``
instead of posting its payload. For one row it

1. announces the files (``open_upload``, keyed by the application's key): the platform answers
   how much of each it already holds, so an upload cut short by a crash, a kill or a dropped
   connection goes on from where the platform stopped, never from the start;
2. sends what is missing in chunks of at most ``chunk_bytes`` (and never more than the platform
   takes), each keyed by its file and offset: a chunk resent after a lost answer changes nothing;
   a platform that holds a different amount than expected says so (``offset_mismatch``) and the
   sender picks up at the platform's figure;
3. submits the form (decrypted from the vault only now, in memory) with the application's key
   as idempotency key: a resubmission gets the same 办件编号;
4. records the answer and deletes the sealed files (``Applications.accepted``).

Failures keep the worker's rules: unreachable or a 5xx means try again later (the row stays,
and so do the sealed files); a refusal for good records why and deletes the files
(``Applications.refused``): the resident is told, nothing personal lingers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

from kiosk.backend import models as m
from kiosk.errors import BackendError, BackendUnavailableError, StoreError

if TYPE_CHECKING:
    from kiosk.backend.client import BackendClient
    from kiosk.store.applications import Applications
    from kiosk.store.outbox import OutboxItem

log = logging.getLogger(__name__)


class ApplicationSender:
    def __init__(self, applications: Applications, client: BackendClient, *,
                 chunk_bytes: int = m.MAX_CHUNK_BYTES) -> None:
        self.applications = applications
        self.client = client
        self.chunk_bytes = min(chunk_bytes, m.MAX_CHUNK_BYTES)
        #: chunks sent by this sender (the bench and the resume tests count them)
        self.chunks_sent = 0

    def __call__(self, item: OutboxItem) -> dict[str, Any]:
        payload = item.payload
        key = payload["application_key"]
        vault = self.applications.vault
        try:
            form = json.loads(vault.open(key, payload["form"]["name"]))
        except (StoreError, ValueError) as e:
            # the sealed files are gone or damaged: nothing can ever send this application
            self.applications.refused(key, f"sealed files unusable: {e}")
            raise BackendError(f"application {key}: sealed files unusable", code="sealed_files_lost",
                               retryable=False) from e
        blobs = payload["blobs"]
        try:
            status = self.client.open_upload(key, blobs, f"{key}:open")
            upload_id = status["upload_id"]
            chunk = min(self.chunk_bytes, int(status["chunk_bytes"]))
            for index in range(len(blobs)):
                status = self._send_file(key, index, blobs, upload_id, chunk, status)
            answer = self.client.submit_application(form | {"upload_id": upload_id}, key)
        except StoreError as e:  # a sealed page gone or damaged since it was queued
            self.applications.refused(key, f"sealed files unusable: {e}")
            raise BackendError(f"application {key}: sealed files unusable", code="sealed_files_lost",
                               retryable=False) from e
        except BackendError as e:
            if _for_good(e):
                log.warning("application %s refused by the backend: %s", key, e.code)
                self.applications.refused(key, f"{e.code}: {e.message_en}")
            raise
        self.applications.accepted(key, answer)
        log.info("application %s accepted: %s (%d file(s))", key, answer["application_no"], len(blobs))
        return answer

    def _send_file(self, key: str, index: int, blobs: list[dict], upload_id: str, chunk: int,
                   status: dict) -> dict:
        blob = blobs[index]
        name, size = blob["name"], int(blob["size"])
        offset = int(status["received"].get(name, 0))
        if offset >= size:
            return status
        data = self.applications.vault.open(key, name)
        if len(data) != size or hashlib.sha256(data).hexdigest() != blob["sha256"]:
            raise StoreError(f"vault {key}/{name}: does not match its manifest")
        resynced = False
        while offset < size:
            piece = data[offset: offset + chunk]
            try:
                status = self.client.put_chunk(upload_id, name, offset, piece, f"{key}:{index}:{offset}")
            except BackendError as e:
                if e.code != "offset_mismatch" or resynced:
                    raise
                # the platform holds another amount (a chunk it kept whose answer was lost)
                status = self.client.open_upload(key, blobs, f"{key}:open")
                offset, resynced = int(status["received"].get(name, 0)), True
                continue
            self.chunks_sent += 1
            offset, resynced = int(status["received"].get(name, 0)), False
        return status


def _for_good(e: BackendError) -> bool:
    """The backend refused the application itself: it will never take it as it is."""
    return not isinstance(e, BackendUnavailableError) and not e.retryable and getattr(e, "status", None) != 401


def senders(applications: Applications | None, client: BackendClient) -> dict[str, Any]:
    """The delivery worker's senders for outbox kinds that take several calls."""
    return {"application": ApplicationSender(applications, client)} if applications is not None else {}
