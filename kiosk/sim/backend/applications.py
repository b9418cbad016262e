"""The simulated platform's 办件 desk: uploads in chunks, acceptance, checks, progress over time.

A terminal announces an application's files (``/v1/applications/uploads``), sends them in
chunks (``/v1/applications/chunks``, at most ``CHUNK_BYTES`` each, each at the offset the desk
holds so far: a resumed upload goes on where the last one stopped), then submits the form
(``/v1/applications``). The desk checks that every file arrived whole (size and SHA-256), gives
the application a 办件编号 and a progress code, and checks the materials as a clerk would: a
required material missing, or a page that cannot be opened, is too dark or too blurred to read,
becomes a 补正 (correction) with its reason. Each key is applied once: a resubmission gets the
same 办件编号.

Applications then move along on their own: 受理 -> 审核 -> (补正) -> 办结 -> 已寄出 (with a
tracking number) or 待领取, one step every ``step_s`` seconds (a working day by default; the demo
sets seconds). Residents follow them by ID number or by the code on the 受理回执's QR; 帮办代办
staff list the applications of their service point.

The desk keeps its own SQLite file and folders beside the platform's data; handlers take a
``Call`` and return (status, answer) like the platform's other modules.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import json
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

from kiosk.backend import models as m
from kiosk.gateway.errors import ApiError
from kiosk.identity import mask_address, mask_id_number, mask_name, mask_phone
from kiosk.sim.backend.api import Call, parse, resident

CHUNK_BYTES = m.MAX_CHUNK_BYTES
#: a step of an application's progress takes a working day unless the platform says otherwise
DEFAULT_STEP_S = 86400.0
STEP_NAMES = {"accepted": "受理", "review": "审核", "correction": "补正", "done": "办结",
              "posted": "已寄出", "ready": "待领取"}
#: applications handed in at a window (seeded), not by a terminal
WINDOW = "WINDOW"
#: below these a page is sent back: mean brightness, and the variance of its Laplacian
MIN_BRIGHTNESS = 45
MIN_SHARPNESS = 10.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY, terminal TEXT NOT NULL, application_key TEXT NOT NULL,
    blobs TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (terminal, application_key)
);
CREATE TABLE IF NOT EXISTS chunk_writes (
    upload_id TEXT NOT NULL, blob TEXT NOT NULL, offset INTEGER NOT NULL, size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS applications (
    application_no TEXT PRIMARY KEY, terminal TEXT NOT NULL, application_key TEXT NOT NULL,
    upload_id TEXT NOT NULL, item_id TEXT NOT NULL, item_name TEXT NOT NULL, id_number TEXT NOT NULL,
    point TEXT NOT NULL, body TEXT NOT NULL, answer TEXT NOT NULL, corrections TEXT NOT NULL,
    progress_code TEXT UNIQUE NOT NULL, accepted_at TEXT NOT NULL, promised_by TEXT NOT NULL,
    step_s REAL NOT NULL, UNIQUE (terminal, application_key)
);
"""

_opening = threading.Lock()


def desk(platform: Any) -> ApplicationDesk:
    """The platform's desk, opened on first use in its data folder and kept on the platform."""
    found = getattr(platform, "_application_desk", None)
    if found is None:
        with _opening:
            found = getattr(platform, "_application_desk", None)
            if found is None:
                found = ApplicationDesk(platform)
                platform._application_desk = found
    return found


def now_iso(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now().astimezone()).isoformat(timespec="seconds")


def add_working_days(day: dt.date, n: int) -> dt.date:
    """``n`` working days after ``day`` (Monday to Friday; the platform's holiday calendar is its own)."""
    while n > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


class ApplicationDesk:
    def __init__(self, platform: Any) -> None:
        self.platform = platform
        root = Path(platform.data_dir)
        self.uploads = root / "uploads"
        self.files = root / "applications"
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(root / "applications.db", check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(SCHEMA)
        self._seed()

    def _seed(self) -> None:
        """Two applications 刘䶮 handed in at a window: one posted, one sent back for correction
        (what 办件进度查询 shows a demo resident before anything is applied for here)."""
        from kiosk.sim.demo_data import BY_KEY

        with self.lock:
            if self.conn.execute("SELECT 1 FROM applications WHERE terminal = ?", (WINDOW,)).fetchone():
                return
            r = BY_KEY["liu_yan"]
            now = dt.datetime.now().astimezone()
            for n, (item_id, item_name, steps, corrections, delivery) in enumerate((
                ("unemployment_registration", "失业登记", 3.5, [], {"method": "mail", "to": "card"}),
                ("vocational_training_enrolment", "就业创业职业培训报名", 2.5,
                 ["居民身份证第2页模糊无法辨认，请重新提交清晰的材料"], {"method": "pickup", "point": "宁阳县政务服务中心"}),
            ), start=1):
                accepted = now - dt.timedelta(seconds=steps * self.step_s)
                number = f"370921{accepted:%Y%m%d}9{n:04d}"
                body = {"applicant": {"name": r.name, "id_number": r.id_number}, "delivery": delivery,
                        "item_id": item_id, "item_name": item_name}
                answer = {"application_no": number, "item_id": item_id, "item_name": item_name}
                self.conn.execute(
                    "INSERT INTO applications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (number, WINDOW, f"window-{number}", "", item_id, item_name, r.id_number, "宁阳县政务服务中心",
                     json.dumps(body, ensure_ascii=False), json.dumps(answer, ensure_ascii=False),
                     json.dumps(corrections, ensure_ascii=False), secrets.token_hex(6).upper(), now_iso(accepted),
                     add_working_days(accepted.date(), _promise_days(item_id)).isoformat(), self.step_s))

    @property
    def step_s(self) -> float:
        return float(getattr(self.platform, "application_step_s", None) or DEFAULT_STEP_S)

    # --- uploads ---------------------------------------------------------------------------------

    def open_upload(self, terminal: str, q: m.UploadOpen) -> dict[str, Any]:
        blobs = {b.name: b.model_dump() for b in q.blobs}
        with self.lock:
            row = self.conn.execute("SELECT upload_id, blobs FROM uploads WHERE terminal=? AND application_key=?",
                                    (terminal, q.application_key)).fetchone()
            if row is None:
                upload_id = f"UP-{secrets.token_hex(8).upper()}"
                self.conn.execute("INSERT INTO uploads VALUES (?, ?, ?, ?, ?)",
                                  (upload_id, terminal, q.application_key, json.dumps(blobs), now_iso()))
            else:
                upload_id = row[0]
                if json.loads(row[1]) != blobs:
                    raise ApiError(409, "upload_changed", "申请材料与首次上传时不一致",
                                   "this application's files differ from those first announced")
            return self._status(upload_id, blobs)

    def _upload(self, terminal: str, upload_id: str) -> dict[str, Any]:
        row = self.conn.execute("SELECT blobs FROM uploads WHERE upload_id=? AND terminal=?",
                                (upload_id, terminal)).fetchone()
        if row is None:
            raise ApiError(404, "upload_not_found", "上传任务不存在", f"no upload {upload_id}")
        return json.loads(row[0])

    def _part(self, upload_id: str, blob: str) -> Path:
        return self.uploads / upload_id / blob

    def _status(self, upload_id: str, blobs: dict[str, Any]) -> dict[str, Any]:
        received = {}
        for name in blobs:
            part = self._part(upload_id, name)
            received[name] = part.stat().st_size if part.exists() else 0
        complete = all(received[n] == b["size"] for n, b in blobs.items())
        return {"upload_id": upload_id, "chunk_bytes": CHUNK_BYTES, "received": received, "complete": complete}

    def put_chunk(self, terminal: str, q: m.ChunkIn) -> dict[str, Any]:
        try:
            data = base64.b64decode(q.data, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(422, "bad_chunk", "上传内容有误", "chunk data is not base64") from None
        if len(data) > CHUNK_BYTES:
            raise ApiError(413, "chunk_too_large", "上传块过大", f"a chunk holds at most {CHUNK_BYTES} bytes")
        with self.lock:
            blobs = self._upload(terminal, q.upload_id)
            spec = blobs.get(q.blob)
            if spec is None:
                raise ApiError(404, "blob_not_found", "上传文件不存在", f"no file {q.blob} in {q.upload_id}")
            part = self._part(q.upload_id, q.blob)
            held = part.stat().st_size if part.exists() else 0
            end = q.offset + len(data)
            if end > spec["size"]:
                raise ApiError(422, "chunk_past_end", "上传内容超出文件大小", "chunk runs past the announced size")
            if q.offset > held or (q.offset < held and end > held):
                raise ApiError(409, "offset_mismatch", "上传位置不一致",
                               f"the platform holds {held} bytes of {q.blob}; send from there")
            if q.offset == held:  # a resent chunk the desk already holds changes nothing
                part.parent.mkdir(parents=True, exist_ok=True)
                with open(part, "ab") as f:
                    f.write(data)
                self.conn.execute("INSERT INTO chunk_writes VALUES (?, ?, ?, ?)",
                                  (q.upload_id, q.blob, q.offset, len(data)))
            return self._status(q.upload_id, blobs)

    # --- acceptance ------------------------------------------------------------------------------

    def submit(self, terminal: str, q: m.ApplicationIn) -> dict[str, Any]:
        with self.lock:
            row = self.conn.execute("SELECT answer FROM applications WHERE terminal=? AND application_key=?",
                                    (terminal, q.application_key)).fetchone()
            if row is not None:
                return json.loads(row[0])  # the same application again: the same 办件编号
            blobs = self._upload(terminal, q.upload_id)
            for name, spec in blobs.items():
                part = self._part(q.upload_id, name)
                data = part.read_bytes() if part.exists() else b""
                if len(data) != spec["size"] or hashlib.sha256(data).hexdigest() != spec["sha256"]:
                    raise ApiError(409, "upload_incomplete", "申请材料尚未完整上传",
                                   f"{name}: {len(data)} of {spec['size']} bytes, or a wrong digest", retryable=True)
            named = {p for mat in q.materials for p in mat.pages} | {q.signature, q.signature_strokes}
            if not named <= set(blobs):
                raise ApiError(422, "unknown_file", "申请引用了未上传的文件",
                               f"files not uploaded: {sorted(named - set(blobs))}")
            now = dt.datetime.now().astimezone()
            number = self._next_number(q.area_code, now)
            code = secrets.token_hex(6).upper()
            promised = add_working_days(now.date(), _promise_days(q.item_id))
            folder = self.files / number
            folder.mkdir(parents=True, exist_ok=True)
            for name in blobs:
                self._part(q.upload_id, name).replace(folder / name)
            answer = {
                "application_no": number, "item_id": q.item_id, "item_name": q.item_name,
                "accepted_at": now_iso(now), "promised_by": promised.isoformat(), "progress_code": code,
                "progress_url": f"{getattr(self.platform, 'public_url', '')}/v1/applications/track?code={code}",
                "materials": [{"key": mat.key, "name_zh": mat.name_zh, "source": mat.source, "pages": len(mat.pages)}
                              for mat in q.materials],
            }
            corrections = _check_materials(q, folder)
            self.conn.execute(
                "INSERT INTO applications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (number, terminal, q.application_key, q.upload_id, q.item_id, q.item_name, q.applicant.id_number,
                 q.point, q.model_dump_json(), json.dumps(answer, ensure_ascii=False),
                 json.dumps(corrections, ensure_ascii=False), code, now_iso(now), promised.isoformat(), self.step_s),
            )
            return answer

    def _next_number(self, area: str, now: dt.datetime) -> str:
        prefix = f"{area}{now:%Y%m%d}"
        count = self.conn.execute("SELECT COUNT(*) FROM applications WHERE application_no LIKE ? AND terminal != ?",
                                  (prefix + "%", WINDOW)).fetchone()[0]
        return f"{prefix}{count + 1:05d}"

    # --- progress ----------------------------------------------------------------------------------

    def progress_of(self, row: tuple, now: dt.datetime | None = None) -> dict[str, Any]:
        (number, _terminal, _key, _upload, item_id, item_name, id_number, _point, body, _answer, corrections,
         _code, accepted_at, promised_by, step_s) = row
        body = json.loads(body)
        corrections = json.loads(corrections)
        now = now or dt.datetime.now().astimezone()
        t0 = dt.datetime.fromisoformat(accepted_at)
        elapsed = max(0.0, (now - t0).total_seconds())
        delivery = body["delivery"]
        posted = delivery["method"] == "mail"
        plan = ["accepted", "review"] + (["correction"] if corrections else ["done", "posted" if posted else "ready"])
        reached = min(len(plan), 1 + int(elapsed // step_s))
        steps = []
        for i, step in enumerate(plan[:reached]):
            at = now_iso(t0 + dt.timedelta(seconds=i * step_s))
            note = ""
            if step == "correction":
                note = "；".join(corrections)
            elif step == "posted":
                note = f"快递单号 {tracking_no(number)}"
            elif step == "ready":
                note = f"请到{delivery.get('point', '')}领取"
            steps.append({"step": step, "name_zh": STEP_NAMES[step], "at": at, "note_zh": note})
        status = plan[reached - 1]
        return {
            "application_no": number, "item_id": item_id, "item_name": item_name,
            "masked_name": mask_name(body["applicant"]["name"]), "status": status, "status_zh": STEP_NAMES[status],
            "accepted_at": accepted_at, "promised_by": promised_by, "steps": steps,
            "corrections": corrections if status == "correction" else [],
            "delivery_zh": "邮寄" if posted else f"到{delivery.get('point', '')}领取",
            "tracking_no": tracking_no(number) if status == "posted" else None,
            "masked_id": mask_id_number(id_number),
        }

    def rows(self, where: str, args: tuple) -> list[tuple]:
        with self.lock:
            return self.conn.execute(f"SELECT * FROM applications WHERE {where} ORDER BY accepted_at DESC, "
                                     "application_no DESC", args).fetchall()

    def advance(self, number: str, steps: int) -> dict[str, Any]:
        """Demo and tests: move an application ``steps`` steps on at once."""
        with self.lock:
            row = self.conn.execute("SELECT accepted_at, step_s FROM applications WHERE application_no=?",
                                    (number,)).fetchone()
            if row is None:
                raise ApiError(404, "application_not_found", "办件不存在", f"no application {number}")
            earlier = dt.datetime.fromisoformat(row[0]) - dt.timedelta(seconds=steps * row[1])
            self.conn.execute("UPDATE applications SET accepted_at=? WHERE application_no=?", (now_iso(earlier), number))
        return self.progress_of(self.rows("application_no = ?", (number,))[0])

    def received(self) -> list[dict[str, Any]]:
        """What the desk holds, for ``/sim/applications`` and tests: the form as received (the
        applicant, the phone and the postal address masked: this view ends up in reviewers'
        files) and each file with its size and digest."""
        out = []
        for row in self.rows("terminal != ?", (WINDOW,)):
            body = json.loads(row[8])
            body["applicant"] = {**body["applicant"], "name": mask_name(body["applicant"]["name"]),
                                 "id_number": mask_id_number(body["applicant"]["id_number"]),
                                 "address": mask_address(body["applicant"]["address"])}
            for value in body["fields"].values():
                if value["kind"] == "phone":
                    value["value"] = value["text"] = mask_phone(value["value"])
            if body["delivery"].get("address"):
                body["delivery"]["address"] = mask_address(body["delivery"]["address"])
            folder = self.files / row[0]
            files = {p.name: {"size": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                     for p in sorted(folder.iterdir())} if folder.exists() else {}
            out.append({"application_no": row[0], "terminal": row[1], "application_key": row[2],
                        "application": body, "files": files, "corrections": json.loads(row[10]),
                        "progress": self.progress_of(row)})
        return out

    def stored(self, number: str) -> dict[str, Any]:
        """An application's body exactly as the platform keeps it (full values: tests only)."""
        return json.loads(self.rows("application_no = ?", (number,))[0][8])

    def chunk_writes(self, upload_id: str | None = None) -> int:
        with self.lock:
            if upload_id is None:
                return self.conn.execute("SELECT COUNT(*) FROM chunk_writes").fetchone()[0]
            return self.conn.execute("SELECT COUNT(*) FROM chunk_writes WHERE upload_id=?", (upload_id,)).fetchone()[0]


def tracking_no(application_no: str) -> str:
    """The postal tracking number of a posted result (EMS 政务专递 style, 13 digits)."""
    return "98" + str(int(hashlib.sha256(application_no.encode()).hexdigest(), 16) % 10**11).zfill(11)


def _promise_days(item_id: str) -> int:
    from kiosk.services.catalogue import load_catalogue

    try:
        spec = load_catalogue().by_id(item_id).application
    except KeyError:
        spec = None
    return spec.promise_days if spec is not None else 20


def _check_materials(q: m.ApplicationIn, folder: Path) -> list[str]:
    """What a clerk would send back: missing required materials, pages that cannot be read."""
    problems = []
    for mat in q.materials:
        if mat.source == "none":
            if mat.required:
                problems.append(f"缺少{mat.name_zh}，请补交")
            continue
        for n, page in enumerate(mat.pages, start=1):
            why = _unreadable(folder / page)
            if why:
                problems.append(f"{mat.name_zh}第{n}页{why}，请重新提交清晰的材料")
    return problems


def _unreadable(path: Path) -> str:
    """Why a page cannot be read ("" when it can): not an image, too dark, too blurred."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            grey = image.convert("L")
            grey.thumbnail((600, 600))
            pixels = np.asarray(grey, dtype=np.float32)
    except (UnidentifiedImageError, OSError):
        return "无法打开"
    if pixels.mean() < MIN_BRIGHTNESS:
        return "过暗无法辨认"
    lap = (-4 * pixels[1:-1, 1:-1] + pixels[:-2, 1:-1] + pixels[2:, 1:-1] + pixels[1:-1, :-2] + pixels[1:-1, 2:])
    if float(lap.var()) < MIN_SHARPNESS:
        return "模糊无法辨认"
    return ""


# --- licences (电子证照) the platform holds ------------------------------------------------------


def licences_of(id_number: str) -> list[dict[str, Any]]:
    """The demo residents' 电子证照: everyone's ID card; the household register of those
    registered in the demo county; a diploma for those born after 1980."""
    r = resident(id_number)
    out = [{"licence_id": f"DZZZ-SFZ-{r.key.upper()[:12]}", "document": "id_card", "name_zh": "居民身份证电子证照",
            "issuer_zh": "宁阳县公安局" if r.area == "370921" else "泰安市公安局", "issued_on": "2021-03-15"}]
    if r.area == "370921":
        out.append({"licence_id": f"DZZZ-HKB-{r.key.upper()[:12]}", "document": "hukou", "name_zh": "居民户口簿电子证照",
                    "issuer_zh": "宁阳县公安局", "issued_on": "2022-07-01"})
    if r.birth >= "19800101":
        out.append({"licence_id": f"DZZZ-XL-{r.key.upper()[:12]}", "document": "diploma", "name_zh": "学历证书电子证照",
                    "issuer_zh": "教育部学信网", "issued_on": "2010-07-01"})
    return out


# --- the handlers ----------------------------------------------------------------------------------


def licences(call: Call) -> tuple[int, dict]:
    q = parse(m.LicenceQuery, call.body)
    return 200, {"masked_id": mask_id_number(q.id_number), "licences": licences_of(q.id_number)}


def open_upload(call: Call) -> tuple[int, dict]:
    return 200, desk(call.backend).open_upload(call.terminal, parse(m.UploadOpen, call.body))


def put_chunk(call: Call) -> tuple[int, dict]:
    return 200, desk(call.backend).put_chunk(call.terminal, parse(m.ChunkIn, call.body))


def submit(call: Call) -> tuple[int, dict]:
    q = parse(m.ApplicationIn, call.body)
    resident(q.applicant.id_number)  # the platform knows every demo resident
    return 201, desk(call.backend).submit(call.terminal, q)


def progress(call: Call) -> tuple[int, dict]:
    q = parse(m.ProgressQuery, call.body)
    d = desk(call.backend)
    items = [d.progress_of(row) for row in d.rows("id_number = ?", (q.id_number,))]
    return 200, {"masked_id": mask_id_number(q.id_number), "applications": items}


def _by_code(backend: Any, code: str) -> dict[str, Any]:
    d = desk(backend)
    rows = d.rows("progress_code = ?", (code,))
    if not rows:
        raise ApiError(404, "application_not_found", "未查询到该办件，请核对回执或凭身份证查询",
                       "No application for this code; check the receipt or use your ID card")
    return d.progress_of(rows[0])


def progress_by_code(call: Call) -> tuple[int, dict]:
    return 200, _by_code(call.backend, parse(m.ProgressCodeQuery, call.body).code)


def track(call: Call) -> tuple[int, dict]:  # the gateway's public GET /v1/applications/track
    """The public page a resident's phone opens from the 回执's QR code (masked, no signature)."""
    return 200, _by_code(call.backend, call.query.get("code", ""))  # a malformed code finds nothing


def by_point(call: Call) -> tuple[int, dict]:
    q = parse(m.PointQuery, call.body)
    d = desk(call.backend)
    out = []
    for row in d.rows("1 = 1", ()):
        body = json.loads(row[8])
        if q.point not in (row[7], body["delivery"].get("point")):
            continue
        p = d.progress_of(row)
        out.append({k: p[k] for k in ("application_no", "item_name", "masked_name", "status", "status_zh",
                                      "accepted_at", "promised_by", "delivery_zh")})
    return 200, {"point": q.point, "applications": out}


def sim_control(backend: Any, method: str, path: str, raw: bytes) -> tuple[int, dict[str, Any]] | None:
    """``GET /sim/applications`` (what arrived, with the files' digests, and how many chunks were
    written) and ``POST /sim/applications/advance {"application_no", "steps"}``; None: not ours."""
    d = desk(backend)
    if path == "/sim/applications" and method == "GET":
        items = d.received()
        return 200, {"count": len(items), "items": items, "chunk_writes": d.chunk_writes()}
    if path == "/sim/applications/advance" and method == "POST":
        try:
            spec = json.loads(raw or b"{}")
            return 200, d.advance(str(spec["application_no"]), int(spec.get("steps", 1)))
        except (ValueError, KeyError, TypeError) as e:
            raise ApiError(400, "bad_request", "参数错误", f"bad advance: {e}") from None
    return None
