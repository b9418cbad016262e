"""The terminal's HTTP client for the backend: signed requests, bounded waits, one error tree.

Design choices, each for a failure seen at unattended terminals:

* One ``requests.Session`` (keep-alive to the backend) with explicit (connect, read) timeouts.
* ``urllib3.Retry`` is mounted for what is safe to repeat without thinking: connection
  failures (the request never left, so even a POST may be sent again) and GETs. A POST whose
  request may have reached the backend is never resent by urllib3: queries and keyed writes are
  retried here instead, re-signed with a fresh nonce (the backend refuses a replayed nonce) and
  with the same idempotency key (so the backend applies the write once).
* Every answer is read with a size cap and a total deadline, so a huge body or a slow drip
  cannot hang a kiosk, and then validated against the contract models.
* Every failure becomes ``BackendUnavailableError`` (try later), ``BackendProtocolError``
  (the backend sent garbage) or ``BackendError`` (the backend said no, in its error shape).

Resident ID numbers travel only in signed POST bodies, never in URLs (URLs end up in logs).
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from pydantic import BaseModel, ValidationError

from kiosk.backend import models as m
from kiosk.backend import transport
from kiosk.backend.signing import sign_headers
from kiosk.errors import BackendError, BackendProtocolError, BackendUnavailableError
from kiosk.validation import fields

log = logging.getLogger(__name__)

#: the biggest answer the contract has (a year of monthly rows, a certificate) is a few KB
MAX_BODY_BYTES = 2 * 1024 * 1024


class BackendClient:
    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        secret: bytes,
        *,
        ca_bundle: Path | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        total_timeout: float | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # a backend behind a path prefix (https://host/zwfw) sees, and checks, the full path
        self._prefix = urlsplit(self.base_url).path
        self.terminal_id = terminal_id
        self._secret = secret
        self.timeout = (connect_timeout, read_timeout)
        #: a whole exchange, body included, never takes longer than this
        self.total_timeout = (
            total_timeout if total_timeout is not None else connect_timeout + read_timeout
        )
        self.max_body_bytes = max_body_bytes
        #: backend clock minus terminal clock, learnt when a signature is refused as stale
        self.clock_offset_s = 0.0
        self.session = requests.Session()
        self.session.verify = str(ca_bundle) if ca_bundle else True
        # a proxy setting in the environment must not reroute the terminal
        self.session.trust_env = False
        adapter = transport.adapter(head_deadline_s=self.total_timeout)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> BackendClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the API -------------------------------------------------------------------------------

    def health(self) -> dict:
        return self._call("GET", "/v1/health", None, m.Health, signed=False)

    def insurance_info(self, id_number: str) -> dict:
        """参保信息: schemes, status, unit, start month; ``insured`` false for nobody insured."""
        return self._call(
            "POST", "/v1/residents/insurance", {"id_number": id_number}, m.InsuranceInfo
        )

    def contributions(self, id_number: str, year: int | None = None) -> dict:
        """缴费明细: the years on record and the rows of ``year`` (the latest year if None)."""
        body: dict[str, Any] = {"id_number": id_number}
        if year is not None:
            body["year"] = year
        return self._call("POST", "/v1/residents/contributions", body, m.Contributions)

    def certificate(
        self,
        id_number: str,
        kind: str,
        idempotency_key: str,
        *,
        year: int | None = None,
        scheme: str | None = None,
        period_from: str | None = None,
        period_to: str | None = None,
    ) -> dict:
        """Issue a certificate: ``{"certificate_no", "verification_code", "verify_url", "document"}``.

        ``kind`` is one of ``models.CERTIFICATE_KINDS``; ``year`` only for medical_settlement;
        ``scheme`` and ``period_from`` / ``period_to`` (YYYY-MM) only for contribution_proof.
        The same key always gives back the same certificate (a retry never issues a second one).
        """
        extra = {"year": year, "scheme": scheme, "period_from": period_from, "period_to": period_to}
        body: dict[str, Any] = {"id_number": id_number, "kind": kind} | {
            k: v for k, v in extra.items() if v
        }
        return self._call("POST", "/v1/certificates", body, m.Certificate, key=idempotency_key)

    def rights_record(self, id_number: str) -> dict:
        """个人权益记录: per scheme, months paid, personal account, last paid period."""
        return self._call(
            "POST", "/v1/residents/rights-record", {"id_number": id_number}, m.RightsRecord
        )

    def medical_account(self, id_number: str, year: int | None = None) -> dict:
        """医保个人账户: balance and the year's movements (employee medical insurance only)."""
        body: dict[str, Any] = {"id_number": id_number} | (
            {"year": year} if year is not None else {}
        )
        return self._call("POST", "/v1/residents/medical-account", body, m.MedicalAccount)

    def benefits(self, id_number: str) -> dict:
        """待遇领取: pensions paid, the last payments, the qualification (资格认证) dates."""
        return self._call("POST", "/v1/residents/benefits", {"id_number": id_number}, m.Benefits)

    def resident_pension(self, id_number: str) -> dict:
        """城乡居民养老保险缴费及待遇."""
        return self._call(
            "POST", "/v1/residents/resident-pension", {"id_number": id_number}, m.ResidentPension
        )

    def bill(self, utility: str, account_no: str) -> dict:
        """Water / electricity / gas bills of an account (8-12 digits), with what is due."""
        return self._call(
            "POST",
            "/v1/bills/query",
            {"utility": utility, "account_no": account_no},
            m.BillStatement,
        )

    def contribution_options(self, id_number: str, scheme: str) -> dict:
        """Years and grades on offer for pension_resident / medical_resident / pension_flexible."""
        return self._call(
            "POST",
            "/v1/contributions/options",
            {"id_number": id_number, "scheme": scheme},
            m.ContributionOptions,
        )

    def create_order(self, order: dict, idempotency_key: str) -> dict:
        """Create a payment order; ``order`` is a bill or contribution order (see openapi.yaml).

        The backend prices it. The answer has ``qr_payload`` for the resident to scan. The same
        key always returns the same order, so a retry after a lost answer never makes two.
        """
        return self._call("POST", "/v1/orders", order, m.Order, key=idempotency_key)

    def order_status(self, order_no: str) -> dict:
        return self._call("POST", "/v1/orders/status", {"order_no": order_no}, m.Order)

    def close_order(self, order_no: str, idempotency_key: str) -> dict:
        """Close an unpaid order. Raises ``BackendError`` code ``order_paid`` if it was paid."""
        return self._call(
            "POST", "/v1/orders/close", {"order_no": order_no}, m.Order, key=idempotency_key
        )

    def reconcile_order(self, order_no: str, *, close_unpaid: bool = False) -> dict:
        """Find out what really happened to a payment whose outcome the terminal missed.

        Only asks; never pays. With ``close_unpaid`` an unpaid order is closed so it cannot be
        paid later behind the terminal's back; if the resident paid in the meantime the close
        is refused and the paid order is returned. Raises ``BackendUnavailableError`` when the
        backend cannot say: the caller keeps the payment as "paid_unconfirmed" and asks again.
        """
        order = self.order_status(order_no)
        if order["status"] == "unpaid" and close_unpaid:
            try:
                order = self.close_order(order_no, f"close-{order_no}")
            except BackendError as e:
                if e.code != "order_paid":
                    raise
                order = self.order_status(order_no)
        return order

    # --- codes shown on the resident's phone ------------------------------------------------

    def resolve_identity_code(self, code: str, idempotency_key: str) -> dict:
        """The resident behind a scanned 电子社保卡 / 电子身份证 code (a single-use token).

        Keyed, because resolving uses the token up: a resend after a lost answer gets the same
        answer instead of "already used". Refusals come as ``BackendError`` with code
        ``token_expired``, ``token_used``, ``token_forged`` or ``token_unknown``."""
        return self._call(
            "POST", "/v1/identity/resolve", {"code": code}, m.ResolvedIdentity, key=idempotency_key
        )

    def pay_with_code(self, order_no: str, auth_code: str, idempotency_key: str, *, deadline_s: float) -> dict:
        """Pay an order with the payer's payment code (付款码, 被扫); one attempt, whose answer
        must come within ``deadline_s``. ``BackendUnavailableError`` means the answer did not
        come: the payment may or may not have happened (ask ``code_payment_status``)."""
        return self._call(
            "POST",
            "/v1/orders/pay-code",
            {"order_no": order_no, "auth_code": auth_code},
            m.CodePayment,
            key=idempotency_key,
            attempts=1,
            read_timeout=deadline_s,
        )

    def code_payment_status(self, order_no: str) -> dict:
        """Where the order's payment by payment code stands (``paying`` while the payer confirms)."""
        return self._call("POST", "/v1/orders/pay-code/status", {"order_no": order_no}, m.CodePayment)

    def reverse_code_payment(self, order_no: str, idempotency_key: str) -> dict:
        """撤销: close the order and give back whatever a payment code may have paid on it."""
        return self._call(
            "POST", "/v1/orders/pay-code/reverse", {"order_no": order_no}, m.CodePayment, key=idempotency_key
        )

    def card_status(self, id_number: str) -> dict:
        """社会保障卡 status: normal or lost (临时挂失), with the masked card number."""
        return self._call("POST", "/v1/cards/status", {"id_number": id_number}, m.CardStatus)

    def report_card_loss(self, id_number: str, phone: str, idempotency_key: str) -> dict:
        """临时挂失, confirmed by the phone number on record (``phone_mismatch`` otherwise)."""
        return self._call(
            "POST",
            "/v1/cards/report-loss",
            {"id_number": id_number, "phone": phone},
            m.CardStatus,
            key=idempotency_key,
        )

    def help_request(
        self, phone: str, item_id: str, item_name: str, requested_at: str, idempotency_key: str
    ) -> dict:
        """帮办代办: ask staff to call the resident back. Normally queued in the outbox instead."""
        body = {
            "phone": phone,
            "item_id": item_id,
            "item_name": item_name,
            "requested_at": requested_at,
        }
        return self._call("POST", "/v1/help-requests", body, m.Accepted, key=idempotency_key)

    # --- applications (24-hour 自助申办) ------------------------------------------------------

    def licences(self, id_number: str) -> dict:
        """The 电子证照 the platform holds for the resident (what they are, not their content)."""
        return self._call("POST", "/v1/residents/licences", {"id_number": id_number}, m.Licences)

    def open_upload(self, application_key: str, blobs: list[dict], idempotency_key: str) -> dict:
        """Announce an application's files; the answer says how much of each the platform
        already holds (a resumed upload goes on from there) and the biggest chunk it takes."""
        body = {"application_key": application_key, "blobs": blobs}
        return self._call("POST", "/v1/applications/uploads", body, m.UploadStatus, key=idempotency_key)

    def put_chunk(self, upload_id: str, blob: str, offset: int, data: bytes, idempotency_key: str) -> dict:
        """Send ``data`` of file ``blob`` from ``offset`` (base64 in the signed JSON body)."""
        body = {"upload_id": upload_id, "blob": blob, "offset": offset,
                "data": base64.b64encode(data).decode("ascii")}
        return self._call("POST", "/v1/applications/chunks", body, m.UploadStatus, key=idempotency_key)

    def submit_application(self, application: dict, idempotency_key: str) -> dict:
        """Submit an uploaded application (``models.ApplicationIn``); the answer carries the
        办件编号. The same key always gets the same answer: a resend never files it twice."""
        return self._call("POST", "/v1/applications", application, m.ApplicationAccepted, key=idempotency_key)

    def application_progress(self, id_number: str) -> dict:
        """办件进度: every application of the resident, newest first, with its steps."""
        return self._call("POST", "/v1/applications/progress", {"id_number": id_number}, m.ProgressList)

    def application_progress_by_code(self, code: str) -> dict:
        """办件进度 of the one application a 受理回执's QR code names."""
        return self._call("POST", "/v1/applications/progress-by-code", {"code": code}, m.ApplicationProgress)

    def point_applications(self, point: str) -> dict:
        """帮办代办: the applications of a service point (taken at its terminal or collected there)."""
        return self._call("POST", "/v1/applications/by-point", {"point": point}, m.PointApplications)

    def heartbeat(self, status: dict, idempotency_key: str) -> dict:
        """Terminal heartbeat: device status, paper, outbox depth, software version. The answer
        carries the remote commands waiting for this terminal (``commands``)."""
        return self._call(
            "POST", "/v1/heartbeat", status, m.HeartbeatAnswer, key=idempotency_key, attempts=1
        )

    def upload_diagnostics(
        self, name: str, data: bytes, idempotency_key: str, command_id: int | None = None
    ) -> dict:
        """Send a diagnostics bundle (asked for by a remote command)."""
        import base64

        body = {
            "command_id": command_id,
            "name": name,
            "content_b64": base64.b64encode(data).decode("ascii"),
        }
        return self._call("POST", "/v1/diagnostics", body, m.Accepted, key=idempotency_key)

    def verify_certificate(self, code: str) -> dict:
        """Public check of a certificate's verification code (what the QR code leads to)."""
        from urllib.parse import quote

        return self._call(
            "GET",
            f"/v1/certificates/verify?code={quote(code)}",
            None,
            m.CertificateCheck,
            signed=False,
        )

    def deliver(self, kind: str, payload: dict, idempotency_key: str) -> dict:
        """Send one outbox item; the backend applies each key once. One attempt: the outbox retries."""
        try:
            path, _model = m.DELIVERY[kind]
        except KeyError:
            raise BackendError(
                f"unknown outbox kind {kind!r}", code="unknown_kind", retryable=False
            ) from None
        return self._call("POST", path, payload, m.Accepted, key=idempotency_key, attempts=1)

    # --- plumbing ------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: dict | None,
        model: type[BaseModel],
        *,
        key: str = "",
        signed: bool = True,
        attempts: int = 2,
        read_timeout: float | None = None,
    ) -> dict:
        """Queries and keyed writes are safe to resend, so they get a second, re-signed try.
        ``read_timeout`` shortens the wait for this call's answer (never lengthens it)."""
        data = (
            b""
            if body is None
            else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        )
        clock_retried = False
        attempt = 1
        while True:
            try:
                return self._once(method, path, data, model, key=key, signed=signed, read_timeout=read_timeout)
            except BackendUnavailableError as e:
                if attempt >= attempts:
                    raise
                log.info("backend %s %s: %s; trying again", method, path, e)
                time.sleep(0.2 * attempt)
                attempt += 1
            except BackendError as e:
                # the terminal's clock is off (a board without a battery-backed clock, after a
                # power cut, before NTP): sign with the backend's time and try once more
                if e.code != "stale_timestamp" or clock_retried or not self._learn_clock(e):
                    raise
                clock_retried = True

    def _learn_clock(self, e: BackendError) -> bool:
        """Take the clock offset from the refused answer's Date header; True if it changed."""
        date = getattr(e, "server_date", None)
        if not date:
            return False
        try:
            server = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return False
        offset = server - time.time()
        if abs(offset - self.clock_offset_s) < 5:
            return False
        log.warning(
            "terminal clock is %+.0f s off the backend's; signing with the backend's time", offset
        )
        self.clock_offset_s = offset
        return True

    def _once(
        self,
        method: str,
        path: str,
        data: bytes,
        model: type[BaseModel],
        *,
        key: str,
        signed: bool,
        read_timeout: float | None = None,
    ) -> dict:
        headers = {"Accept": "application/json"}
        if data:
            headers["Content-Type"] = "application/json; charset=utf-8"
        if signed:
            headers |= sign_headers(
                self.terminal_id,
                self._secret,
                method,
                self._prefix + path,
                data,
                idempotency_key=key,
                now=time.time() + self.clock_offset_s,
            )
        timeout, total = self.timeout, self.total_timeout
        if read_timeout is not None and read_timeout < timeout[1]:
            timeout, total = (timeout[0], read_timeout), min(total, timeout[0] + read_timeout)
        deadline = time.monotonic() + total
        try:
            resp = self.session.request(
                method,
                self.base_url + path,
                data=data or None,
                headers=headers,
                timeout=timeout,
                stream=True,
            )
        except requests.exceptions.SSLError as e:
            raise BackendUnavailableError(f"TLS failure talking to the backend: {e}") from e
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
            raise BackendUnavailableError(f"{method} {path}: {type(e).__name__}") from e
        except requests.exceptions.RequestException as e:
            raise BackendProtocolError(f"{method} {path}: {type(e).__name__}: {e}") from e
        with resp:
            raw = self._read_capped(resp, deadline, f"{method} {path}")
        try:
            return self._decode(resp, raw, model, f"{method} {path}")
        except BackendError as e:
            e.server_date = resp.headers.get("Date", "")  # type: ignore[attr-defined]
            raise

    def _read_capped(self, resp: requests.Response, deadline: float, what: str) -> bytes:
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise BackendProtocolError(
                f"{what}: answer of {declared} bytes is over the {self.max_body_bytes} cap"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                if time.monotonic() > deadline:
                    raise BackendUnavailableError(
                        f"{what}: answer not complete within {self.total_timeout:.0f} s"
                    )
                # read1 returns whatever has arrived, so the deadline is checked between drips
                chunk = resp.raw.read1(65536, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise BackendProtocolError(
                        f"{what}: answer over the {self.max_body_bytes} byte cap"
                    )
                chunks.append(chunk)
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            # a read timeout, a reset or an incomplete body: the answer is lost, try again later
            raise BackendUnavailableError(
                f"{what}: connection lost while reading: {type(e).__name__}"
            ) from e
        return b"".join(chunks)

    def _decode(
        self, resp: requests.Response, raw: bytes, model: type[BaseModel], what: str
    ) -> dict:
        status = resp.status_code
        ctype = resp.headers.get("Content-Type", "")
        server_side = status >= 500
        try:
            if "json" not in ctype:
                raise ValueError(f"content type {ctype or 'missing'!r}")
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            msg = f"{what}: HTTP {status}, not JSON ({e})"
            raise (
                BackendUnavailableError(msg) if server_side else BackendProtocolError(msg)
            ) from None
        if status >= 400:
            try:
                err = m.ErrorEnvelope.model_validate(doc).error
            except ValidationError:
                msg = f"{what}: HTTP {status} without the error shape"
                raise (
                    BackendUnavailableError(msg) if server_side else BackendProtocolError(msg)
                ) from None
            cls = BackendUnavailableError if server_side else BackendError
            exc = cls(
                f"{what}: HTTP {status} {err.code}: {err.message_en}",
                message_zh=err.message_zh,
                message_en=err.message_en,
                retryable=err.retryable or server_side,
                code=err.code,
            )
            exc.status = status  # type: ignore[attr-defined]
            raise exc
        if not isinstance(doc, dict):
            raise BackendProtocolError(f"{what}: answer is a {type(doc).__name__}, not an object")
        try:
            model.model_validate(doc)
        except ValidationError as e:
            raise BackendProtocolError(
                f"{what}: answer does not follow the contract ({fields(e, most=5)})"
            ) from None
        return doc
