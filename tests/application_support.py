"""Building applications for the tests that send them: sealed pages, a signature and a form."""

from __future__ import annotations

import hashlib
import io
import json

from kiosk.backend import payloads
from kiosk.sim.demo_data import BY_KEY
from kiosk.store.applications import Applications


def jpeg_page(seed: int, size: tuple[int, int] = (900, 1200), quality: int = 80) -> bytes:
    """A page a clerk can read: dark text lines on white, different for every seed."""
    from PIL import Image, ImageDraw

    image = Image.new("L", size, 250)
    draw = ImageDraw.Draw(image)
    for row in range(40, size[1] - 40, 28):
        width = 200 + (seed * 37 + row * 13) % (size[0] - 300)
        draw.rectangle([60, row, 60 + width, row + 12], fill=20 + (seed * 7 + row) % 60)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def queue_application(apps: Applications, key: str, *, resident: str = "zhu_dehua", pages: int = 3,
                      item_id: str = "longevity_allowance", item_name: str = "80周岁以上老年人高龄津贴申领",
                      page_bytes: list[bytes] | None = None) -> dict:
    """Seal and queue one application as the flow does; returns its outbox payload."""
    r = BY_KEY[resident]
    page_bytes = page_bytes or [jpeg_page(i) for i in range(pages)]
    files = {f"id_card-{i + 1}.jpg": data for i, data in enumerate(page_bytes)}
    files["signature.png"] = jpeg_page(99, (600, 200))  # a picture is a picture to the upload
    files["signature.json"] = json.dumps({"strokes": [[[0, 0], [10, 10]]]}).encode()
    form = {
        "application_key": key, "area_code": "370921", "point": "葛石镇便民服务中心",
        "item_id": item_id, "item_name": item_name,
        "applicant": {"name": r.name, "id_number": r.id_number, "sex": r.sex,
                      "birth_date": r.birth_date.isoformat(), "address": r.address},
        "fields": {"phone": {"kind": "phone", "value": r.phone, "text": r.phone}},
        "materials": [{"key": "id_card", "name_zh": "居民身份证", "source": "scan",
                       "pages": [n for n in files if n.startswith("id_card")]}],
        "signature": "signature.png", "signature_strokes": "signature.json",
        "committed": True, "commitment_sha256": hashlib.sha256("承诺".encode()).hexdigest(),
        "delivery": {"method": "pickup", "point": "葛石镇便民服务中心"},
        "submitted_at": "2026-06-01T09:30:00+08:00",
    }
    sealed = apps.seal(key, files)
    form_ref = apps.seal(key, {"form.json": json.dumps(payloads.application(form), ensure_ascii=False).encode()})[0]
    media = {"jpg": "image/jpeg", "png": "image/png", "json": "application/json"}
    blob = lambda s: {"name": s.name, "size": s.size, "sha256": s.sha256,  # noqa: E731
                      "media_type": media[s.name.rsplit(".", 1)[1]]}
    payload = payloads.application_queued(
        application_key=key, item_id=item_id, item_name=item_name, masked_name=r.name[0] + "**",
        masked_id=r.id_number[:3] + "*" * 11 + r.id_number[-4:], blobs=[blob(s) for s in sealed], form=blob(form_ref))
    apps.queue(key, payload, item_id=item_id, item_name=item_name, masked_name=payload["masked_name"],
               masked_id=payload["masked_id"])
    return payload
