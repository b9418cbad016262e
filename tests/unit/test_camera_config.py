"""The document camera's config section: a UVC camera, a simulated one, none; mistakes named."""

from __future__ import annotations

import pytest

from kiosk.config import DEFAULT_PATH, NoDevice, UvcCamera, load_config
from kiosk.errors import ConfigError


def _with(tmp_path, section: str):
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    start = text.index("[devices.camera]")
    end = text.index("[devices.a4printer]")
    path = tmp_path / "kiosk.toml"
    path.write_text(text[:start] + section + "\n" + text[end:], encoding="utf-8")
    return path


def test_a_uvc_camera_by_device_node(tmp_path):
    cfg = load_config(_with(tmp_path, '[devices.camera]\ndriver = "uvc"\ndevice = "/dev/video2"\nwidth = 2592\nheight = 1944\n'))
    assert isinstance(cfg.devices.camera, UvcCamera) and cfg.devices.camera.device == "/dev/video2"
    assert (cfg.devices.camera.width, cfg.devices.camera.height, cfg.devices.camera.fps) == (2592, 1944, 10.0)


def test_no_camera_section_means_none_fitted(tmp_path):
    cfg = load_config(_with(tmp_path, ""))
    assert isinstance(cfg.devices.camera, NoDevice)


@pytest.mark.parametrize(("section", "expected"), [
    ('[devices.camera]\ndriver = "webcam"\n', "devices.camera.driver: unknown driver 'webcam'"),
    ('[devices.camera]\ndriver = "uvc"\nwidth = 100\n', "devices.camera.width: Input should be greater than or equal to 320"),
    ('[devices.camera]\ndriver = "uvc"\nfps = "10"\n', "devices.camera.fps: wrong type"),
])
def test_mistakes_are_named_by_file_and_key(tmp_path, section, expected):
    path = _with(tmp_path, section)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}: {expected}" in str(caught.value)
