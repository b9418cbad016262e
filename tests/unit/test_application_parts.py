"""The small parts of 自助申办: the step indicator, the signature, the vault, the receipt's code."""

from __future__ import annotations

import io

import pytest

from kiosk.errors import StoreDamagedError, StoreError
from kiosk.services.catalogue import load_catalogue
from kiosk.services.progress import BadCodeError, code_from_scan
from kiosk.services.signature import Signature, SignatureError
from kiosk.services.steps import current_step, steps_for
from kiosk.store.vault import Vault, vault_key


def test_an_application_shows_its_three_steps_and_the_screen_says_which():
    item = load_catalogue().by_id("longevity_allowance")
    steps = steps_for(item)
    assert [s.zh for s in steps] == ["阅读须知", "核验身份", "填写表单", "提交材料", "签名承诺", "办理结果", "评价"]
    assert [current_step(steps, "item", s) for s in ("apply_form", "apply_materials", "apply_sign")] == [2, 3, 4]
    progress = steps_for(load_catalogue().by_id("application_progress"))
    assert current_step(progress, "item", "progress") == 2


def test_a_signature_is_drawn_as_a_png_and_kept_as_its_strokes():
    from PIL import Image

    sig = Signature(strokes=(((0.1, 0.2), (0.5, 0.8), (0.9, 0.2)),), aspect=3.0)
    sig.check()
    image = Image.open(io.BytesIO(sig.png()))
    assert image.size == (900, 300) and image.getextrema()[0] == 0  # black ink on white
    assert image.getpixel((450, 60)) < 128  # the stroke's peak, at the top (y up in the strokes)
    assert sig.to_json().startswith(b'{"aspect":3.0,"strokes":[[[0.1,0.2],[0.5,0.8],[0.9,0.2]]]')
    assert "strokes" in repr(sig) and "0.1" not in repr(sig)


@pytest.mark.parametrize("strokes", [(), (((0.5, 0.5),),), (((0.5, 0.5), (0.52, 0.51)),)])
def test_a_tap_or_a_dot_is_not_a_signature(strokes):
    with pytest.raises(SignatureError):
        Signature(strokes=strokes).check()


def test_the_vault_seals_opens_and_forgets(tmp_path):
    vault = Vault(tmp_path, b"secret-1")
    sealed = vault.seal("APP-1", "page-1.jpg", b"\xff\xd8\xffpage")
    assert sealed.size == 7 and len(sealed.sha256) == 64
    raw = (tmp_path / "APP-1" / "page-1.jpg.sealed").read_bytes()
    assert raw.startswith(b"KVLT1") and b"page" not in raw
    assert vault.open("APP-1", "page-1.jpg") == b"\xff\xd8\xffpage"
    assert vault.names("APP-1") == ["page-1.jpg"] and vault.bundles() == ["APP-1"]
    (tmp_path / "APP-1" / "page-1.jpg.sealed").write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(StoreDamagedError):
        vault.open("APP-1", "page-1.jpg")
    vault.delete("APP-1")
    assert vault.bundles() == []
    with pytest.raises(StoreError):
        vault.open("APP-1", "page-1.jpg")
    with pytest.raises(ValueError):
        vault.seal("../escape", "x", b"")


def test_the_sealing_key_is_not_the_terminal_secret_and_differs_per_secret():
    assert vault_key(b"s1") != vault_key(b"s2") and len(vault_key(b"s1")) == 32
    assert vault_key(b"s1") != b"s1".ljust(32, b"\0")


def test_the_progress_code_is_read_from_the_receipts_url_or_as_it_is():
    assert code_from_scan("http://host:8765/v1/applications/track?code=09E238DDFAB3\r\n") == "09E238DDFAB3"
    assert code_from_scan("09E238DDFAB3") == "09E238DDFAB3"
    for bad in ("https://example.com/pay?order=1", "短码", "x" * 40):
        with pytest.raises(BadCodeError):
            code_from_scan(bad)
