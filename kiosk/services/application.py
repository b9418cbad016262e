"""24-hour 自助申办: fill the form, photograph the materials, sign, submit, take the 受理回执.

The flow behind the three application screens (form, materials, signature) for every item whose
catalogue entry has an ``[items.application]`` table. It keeps what the resident entered in
memory only (the session's flow is dropped when the visit ends); the scanned pages, the signature
and the form touch the disk only when submitted, and then sealed (``kiosk.store.applications``).

Submitting writes the journal's intent, seals and queues the application in the outbox (one row,
delivered by ``kiosk.backend.uploads`` exactly once) and waits up to ``wait_for_number_s`` for
the platform's 办件编号. With it the 受理回执 is printed: 办件编号, item, materials received, the
promised date, a QR code to follow the progress, and how the result reaches the resident.
Without it (the network is down or slow) the application is safe all the same: a 申请凭条 says so
and the resident follows the progress by ID card later. A printer that fails never turns an
accepted application into a failure: the result offers to print again.

Methods that block (backend, camera, printer, disk) say so; the UI runs them on its worker.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiosk.backend import payloads
from kiosk.errors import KioskError, StoreError
from kiosk.receipt import PrintJob, Receipt
from kiosk.services.application_form import ApplicationForm
from kiosk.services.application_spec import DOCUMENTS
from kiosk.services.journey import Outcome
from kiosk.services.paper import print_kept
from kiosk.services.signature import Signature

if TYPE_CHECKING:
    from kiosk.services.application_spec import MaterialSpec
    from kiosk.services.catalogue import ServiceItem
    from kiosk.services.journey import Journey

log = logging.getLogger(__name__)

MEDIA = {"jpg": "image/jpeg", "png": "image/png", "json": "application/json"}


@dataclass
class Material:
    """One material as the resident hands it in: pages scanned, an 电子证照 picked, or later."""

    spec: MaterialSpec
    pages: list[Any] = field(default_factory=list, repr=False)  # kiosk.hardware.page_scan.Page
    licence: dict[str, Any] | None = None
    later: bool = False  # 容缺受理: the resident hands it in later (the platform asks, 补正)

    @property
    def done(self) -> bool:
        return bool(self.licence) or self.later or len(self.pages) >= self.spec.pages_min \
            or (not self.spec.required and not self.pages)

    @property
    def full(self) -> bool:
        return len(self.pages) >= self.spec.pages_max

    @property
    def source(self) -> str:
        return "licence" if self.licence else ("scan" if self.pages else "none")

    def shown(self) -> tuple[str, str]:
        """What the material's line says now, zh and en."""
        if self.licence:
            return f"已选用{self.licence['name_zh']}", "Your electronic licence is used"
        if self.pages:
            return f"已拍摄{len(self.pages)}页", f"{len(self.pages)} page(s) taken"
        if self.later:
            return "稍后补交", "To hand in later"
        return ("未提交（必需）", "Not yet given (needed)") if self.spec.required else ("未提交（可选）", "Not given (optional)")


class ApplicationFlow:
    #: the ID card may leave the reader mid-item: it is photographed on the document camera
    card_may_leave = True

    def __init__(self, item: ServiceItem, journey: Journey) -> None:
        assert item.application is not None
        self.item = item
        self.journey = journey
        self.spec = item.application
        self.form: ApplicationForm | None = None
        self.materials: dict[str, Material] = {m.key: Material(m) for m in self.spec.materials}
        self.licences: list[dict[str, Any]] = []
        self.signature: Signature | None = None
        self.committed = False
        self.key = ""
        self.answer: dict[str, Any] | None = None
        self.queued = False

    @property
    def reference(self) -> str:
        return self.journey.session.matter_no

    # --- the form ---------------------------------------------------------------------------

    def prepare(self) -> Outcome | None:
        """Build the form from the identity; load the 电子证照 the platform holds (blocking).
        Returns the outcome that ends the item when the resident cannot apply, else None."""
        ports, session = self.journey.ports, self.journey.session
        assert session.identity is not None
        cfg = ports.config
        points = tuple(p.name for p in cfg.service_points)
        self.form = ApplicationForm(self.spec, ports.catalogue.codes, session.identity, today=ports.now().date(),
                                    service_points=points)
        why = self.form.ineligible()
        if why is not None:
            return Outcome(ok=False, title_zh="不符合申请条件", title_en="You cannot apply for this",
                           message_zh=why[0] + f"如有疑问请咨询{self.item.guide.contact}。",
                           message_en=why[1] + " Ask at a window if in doubt.", reference=self.reference)
        if any(m.licence for m in self.spec.materials):
            try:
                self.licences = list(ports.backend.licences(session.identity.id_number)["licences"])
            except KioskError as e:  # no 电子证照 today: the resident scans instead
                log.info("licences of %s not loaded: %s", self.reference, e)
                self.licences = []
        return None

    # --- materials ----------------------------------------------------------------------------

    def camera(self) -> Any:
        return self.journey.ports.devices.device("camera")

    def licence_for(self, key: str) -> dict[str, Any] | None:
        """The 电子证照 the platform holds that can stand for this material, or None."""
        spec = self.materials[key].spec
        if not spec.licence:
            return None
        return next((x for x in self.licences if x["document"] == spec.document), None)

    def capture(self, key: str) -> int:
        """Photograph one page of a material (blocking: waits for the page to lie still).
        Returns how many pages it has now; raises the camera's errors (NoPageError ...)."""
        material = self.materials[key]
        if material.full:
            raise KioskError(f"{key} has its {material.spec.pages_max} pages",
                             message_zh=f"{material.spec.name_zh}最多{material.spec.pages_max}页，可删除后重拍",
                             message_en=f"{material.spec.name_en}: at most {material.spec.pages_max} pages; delete one to retake it")
        camera = self.camera()
        if camera is None:
            raise KioskError("no camera", message_zh="本终端未配备高拍仪", message_en="This terminal has no document camera")
        page = camera.capture(timeout_s=self.journey.ports.config.applications.capture_timeout_s)
        material.pages.append(page)
        material.licence, material.later = None, False
        return len(material.pages)

    def remove_page(self, key: str, index: int = -1) -> None:
        pages = self.materials[key].pages
        if pages:
            pages.pop(index)

    def use_licence(self, key: str) -> None:
        licence = self.licence_for(key)
        if licence is None:
            raise KioskError(f"no licence for {key}", message_zh="没有可用的电子证照，请拍摄材料",
                             message_en="No electronic licence for this; please photograph it")
        material = self.materials[key]
        material.licence, material.pages, material.later = licence, [], False

    def hand_in_later(self, key: str) -> None:
        material = self.materials[key]
        material.later, material.pages, material.licence = True, [], None

    def reset_material(self, key: str) -> None:
        material = self.materials[key]
        material.later, material.pages, material.licence = False, [], None

    def materials_done(self) -> bool:
        return all(m.done for m in self.materials.values())

    # --- signature and commitment ---------------------------------------------------------------

    def sign(self, signature: Signature) -> None:
        signature.check()
        self.signature = signature

    def confirm(self, committed: bool) -> None:
        self.committed = committed

    def ready(self) -> bool:
        return bool(self.form and self.form.complete and self.materials_done() and self.signature and self.committed)

    # --- submitting -----------------------------------------------------------------------------

    def _point(self) -> str:
        """The service point this terminal stands at (its 帮办代办 staff follow applications up)."""
        cfg = self.journey.ports.config
        return next((p.name for p in cfg.service_points if p.name in cfg.terminal.name), cfg.terminal.name)[:64]

    def _files(self) -> tuple[dict[str, bytes], list[dict[str, Any]]]:
        files: dict[str, bytes] = {}
        materials = []
        for m in self.materials.values():
            names = []
            for n, page in enumerate(m.pages, start=1):
                name = f"{m.spec.key}-{n}.jpg"
                files[name] = page.jpeg
                names.append(name)
            materials.append({"key": m.spec.key, "name_zh": m.spec.name_zh, "required": m.spec.required,
                              "source": m.source, "pages": names,
                              "licence_id": m.licence["licence_id"] if m.licence else None})
        assert self.signature is not None
        files["signature.png"] = self.signature.png()
        files["signature.json"] = self.signature.to_json()
        return files, materials

    def submit(self) -> Outcome:
        """Seal, queue and wait for the 办件编号; print the 回执. Blocking. Safe to call again."""
        if self.queued:
            return self._settled_outcome()
        if not self.ready():
            raise KioskError("application not ready", message_zh="请先完成表单、材料、签名和承诺",
                             message_en="Finish the form, the materials, the signature and the commitment first")
        ports, session = self.journey.ports, self.journey.session
        assert self.form is not None and session.identity is not None
        if ports.applications is None:
            raise KioskError("no application store", message_zh="本终端暂不能受理申请，请到窗口办理",
                             message_en="This terminal cannot take applications now; please go to a window")
        self.key = self.reference  # one application a visit: its transaction number keys it
        try:
            self._intent()
            files, materials = self._files()
            body = self.form.submission() | {
                "application_key": self.key, "area_code": ports.config.terminal.area_code, "point": self._point(),
                "item_id": self.item.id, "item_name": self.item.name_zh, "materials": materials,
                "signature": "signature.png", "signature_strokes": "signature.json", "committed": True,
                "commitment_sha256": hashlib.sha256(self.spec.commitment_zh.encode()).hexdigest(),
                "submitted_at": ports.now().astimezone().isoformat(timespec="seconds"),
            }
            payloads.application(body)  # the contract refuses nothing later
            sealed = ports.applications.seal(self.key, files)
            form = ports.applications.seal(self.key, {"form.json": json.dumps(body, ensure_ascii=False).encode()})[0]
            entry = payloads.application_queued(
                application_key=self.key, item_id=self.item.id, item_name=self.item.name_zh,
                masked_name=session.identity.masked_name, masked_id=session.identity.masked_id,
                blobs=[_blob(s) for s in sealed], form=_blob(form))
            ports.applications.queue(self.key, entry, item_id=self.item.id, item_name=self.item.name_zh,
                                     masked_name=session.identity.masked_name, masked_id=session.identity.masked_id)
        except StoreError as e:
            log.error("application %s not queued: the store refused it: %s", self.reference, e)
            ports.journal.drop_intent(self.reference)
            try:  # what was sealed before the refusal waits for nothing: away with it now
                ports.applications.vault.delete(self.key)
            except OSError as gone:
                log.warning("application %s: sealed files left for the start-up sweep: %s", self.reference, gone)
            return Outcome.failed(e, self.reference, then=("请到窗口办理。", "Please apply at a window."))
        self.queued = True
        log.info("application %s queued as %s (%d file(s))", self.reference, self.key, len(files))
        return self._settled_outcome()

    def _settled_outcome(self) -> Outcome:
        ports = self.journey.ports
        row = ports.applications.wait(self.key, ports.config.applications.wait_for_number_s)
        if row is not None and row["status"] == "refused":
            self._journal("failed")
            return Outcome(ok=False, title_zh="申请未被受理", title_en="The application was not accepted",
                           message_zh=f"受理平台未接收本次申请（{_reason_zh(row['reason'])}），请到窗口办理或咨询{self.item.guide.contact}。",
                           message_en="The platform did not accept this application; please apply at a window.",
                           reference=self.reference)
        self._journal("completed")
        if row is not None:
            self.answer = row["answer"]
        return self._done_outcome(self.print_receipt())

    # --- the 受理回执 --------------------------------------------------------------------------

    def print_receipt(self) -> str:
        """Print the 受理回执 (or the 申请凭条 while no 办件编号 has come) once; '' when printed,
        else why not (zh). Blocking."""
        kind = "accepted" if self.answer else "queued"
        return print_kept(self.journey.ports, self.journey.session, f"application_receipt_{kind}",
                          lambda: PrintJob(job_id=f"{self.reference}-{kind}", receipt=self.receipt()),
                          "application receipt")

    # the result screen retries a failed print through this name
    def print_certificate(self) -> Outcome:
        return self._done_outcome(self.print_receipt())

    def receipt(self) -> Receipt:
        ports = self.journey.ports
        identity = self.journey.session.identity
        assert identity is not None and self.form is not None
        delivery = self.form.delivery_summary()[0]
        materials = tuple((DOCUMENTS[m.spec.document][0], _received(m))
                          for m in self.materials.values() if m.source != "none" or m.later)
        lines: list[tuple[str, str]] = []
        if self.answer:
            lines.append(("办件编号", self.answer["application_no"]))
        lines += [("事项", self.item.name_zh), ("申请人", identity.masked_name), ("身份证号", identity.masked_id),
                  ("受理部门", self.spec.department_zh)]
        if self.answer:
            lines += [("受理时间", self.answer["accepted_at"][:16].replace("T", " ")),
                      ("承诺办结", f"{self.answer['promised_by']}前（{self.spec.promise_days}个工作日）")]
        else:
            lines.append(("承诺时限", f"受理后{self.spec.promise_days}个工作日"))
        lines.append(("领取方式", delivery))
        footer = (("扫描二维码或凭身份证在自助终端“办件进度查询”查看办理进度。",) if self.answer else
                  ("网络恢复后本终端将自动提交您的申请，无需重复申请；", "稍后可凭身份证在自助终端“办件进度查询”查看办件编号和进度。"))
        return Receipt(
            title="受理回执" if self.answer else "申请凭条",
            transaction_no=self.reference,
            issued_at=ports.now().strftime("%Y-%m-%d %H:%M:%S"),
            terminal_id=ports.config.terminal.id,
            lines=tuple(lines),
            table_header=("收到材料", "方式"),
            table_rows=materials or (("无", ""),),
            qr_payload=self.answer["progress_url"] if self.answer else "",
            footer=(*footer, f"咨询：{self.item.guide.contact}"),
        )

    def _done_outcome(self, not_printed: str) -> Outcome:
        slip = "受理回执" if self.answer else "申请凭条"
        if not_printed:
            paper_zh = f"{slip}未打印（{not_printed}），请记下编号。"
            paper_en = "No receipt was printed; please note the number."
        else:
            paper_zh, paper_en = f"请取走{slip}。", "Please take your receipt."
        retry = "print" if not_printed and self.journey.ports.devices.device("printer") is not None else ""
        if self.answer:
            number = self.answer["application_no"]
            return Outcome(
                ok=True, title_zh="申请已受理", title_en="Your application is accepted",
                message_zh=f"办件编号 {number}，承诺{self.answer['promised_by']}前办结。{paper_zh}"
                           "可扫描回执二维码或凭身份证查询办理进度。",
                message_en=f"Case number {number}, to be decided by {self.answer['promised_by']}. {paper_en} "
                           "Follow the progress with the receipt's QR code or your ID card.",
                reference=number, can_retry=retry)
        return Outcome(
            ok=True, notice=True, title_zh="申请已保存，将自动提交", title_en="Your application is saved and will be sent",
            message_zh=f"网络暂时不通，您的申请和材料已加密保存在本终端，网络恢复后自动提交，无需重复申请。{paper_zh}"
                       "稍后可凭身份证查询办件编号和进度。",
            message_en="The network is down. Your application and materials are stored encrypted on this terminal and "
                       f"will be sent by themselves; do not apply again. {paper_en} Check the case number and progress "
                       "later with your ID card.",
            reference=self.key, can_retry=retry)

    def failed_outcome(self, error: KioskError) -> Outcome:
        return Outcome.failed(error, self.reference, then=("请稍后再试，或到窗口办理。", "Try again later, or apply at a window."))

    # --- the journal -----------------------------------------------------------------------------

    def _intent(self) -> None:
        identity = self.journey.session.identity
        self.journey.ports.journal.begin(
            transaction_no=self.reference, item_id=self.item.id, item_name=self.item.name_zh,
            masked_name=identity.masked_name if identity else "", masked_id=identity.masked_id if identity else "",
            status="started")

    def _journal(self, status: str) -> None:
        identity = self.journey.session.identity
        self.journey.ports.journal.settle(
            transaction_no=self.reference, item_id=self.item.id, item_name=self.item.name_zh,
            masked_name=identity.masked_name if identity else "", masked_id=identity.masked_id if identity else "",
            status=status)


def _blob(sealed: Any) -> dict[str, Any]:
    return {"name": sealed.name, "size": sealed.size, "sha256": sealed.sha256,
            "media_type": MEDIA[sealed.name.rsplit(".", 1)[1]]}


def _received(m: Material) -> str:
    if m.licence:
        return "电子证照"
    if m.later:
        return "容缺，待补交"
    return f"扫描{len(m.pages)}页"


def _reason_zh(reason: str) -> str:
    if "resident_not_found" in reason:
        return "未查询到申请人信息"
    if "sealed_files_lost" in reason:
        return "终端保存的材料已损坏"
    return "材料或信息不符合要求"
