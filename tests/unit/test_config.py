"""Config validation: the shipped file is good; every kind of mistake names the file and key."""

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import DEFAULT_PATH, load_config
from kiosk.errors import ConfigError
from tests.support import write_config

GOOD = DEFAULT_PATH.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_is_valid():
    cfg = load_config(DEFAULT_PATH)
    assert cfg.terminal.site_kind in ("hall", "bank", "supermarket", "hospital")
    assert cfg.session.idle_warning_s >= 20
    assert cfg.data_dir.is_absolute()
    assert cfg.devices.printer.driver == "simulated"
    assert cfg.certificates.mask_personal_data is False  # certificates name their holder in full


def test_a_county_can_mask_certificates_too(tmp_path):
    cfg = load_config(write(tmp_path, GOOD.replace("mask_personal_data = false", "mask_personal_data = true")))
    assert cfg.certificates.mask_personal_data is True
    without = GOOD.replace("[certificates]", "").replace("mask_personal_data = false", "")
    assert load_config(write(tmp_path, without)).certificates.mask_personal_data is False


@pytest.mark.parametrize(
    ("change", "key", "what"),
    [
        (lambda t: t.replace('area_code = "370921"', ""), "terminal.area_code", "missing key"),
        (lambda t: t.replace("idle_timeout_s = 120", 'idle_timeout_s = "soon"'), "session.idle_timeout_s", "wrong type"),
        (lambda t: t.replace('[devices.printer]\ndriver = "simulated"', '[devices.printer]\ndriver = "thermal"'),
         "devices.printer.driver", "unknown driver 'thermal'"),
        (lambda t: t.replace('url = "http://127.0.0.1:8765"', 'url = "127.0.0.1:8765"'), "backend.url", "bad URL"),
        (lambda t: t.replace('site_kind = "hall"', 'site_kind = "mall"'), "terminal.site_kind", "'mall' is not allowed"),
        (lambda t: t.replace("idle_warning_s = 25", "idle_warning_s = 5"), "session.idle_warning_s", "greater than or equal to 20"),
        (lambda t: t.replace("[session]", "[session]\nidle_timout_s = 3"), "session.idle_timout_s", "unknown key"),
        (lambda t: t.replace("mask_personal_data = false", 'mask_personal_data = "yes"'),
         "certificates.mask_personal_data", "wrong type"),
        (lambda t: t.replace("mask_personal_data = false", "mask_names = true"), "certificates.mask_names", "unknown key"),
        (lambda t: t.replace('[devices.idcard]\ndriver = "simulated"', '[devices.idcard]\ndriver = "serial"'),
         "devices.idcard.port", "missing key"),
    ],
)
def test_each_mistake_names_file_key_and_problem(tmp_path, change, key, what):
    path = write(tmp_path, change(GOOD))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert f"{key}: " in message
    assert what in message


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[terminal\nid = 1"))
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_secret_sources(tmp_path, monkeypatch):
    cfg = load_config(write(tmp_path, GOOD.replace('secret_file = "../var/terminal.secret"', 'secret_env = "KIOSK_TEST_SECRET"')))
    monkeypatch.delenv("KIOSK_TEST_SECRET", raising=False)
    with pytest.raises(ConfigError, match="KIOSK_TEST_SECRET"):
        cfg.terminal_secret()
    monkeypatch.setenv("KIOSK_TEST_SECRET", "s3cret")
    assert cfg.terminal_secret() == b"s3cret"
    both = GOOD.replace('secret_file = "../var/terminal.secret"', 'secret_file = "x"\nsecret_env = "Y"')
    with pytest.raises(ConfigError, match="exactly one of secret_file or secret_env"):
        load_config(write(tmp_path, both))


def test_check_config_command_exit_codes(tmp_path, capsys):
    good = write_config(tmp_path / "terminal", "http://127.0.0.1:8765")
    (tmp_path / "terminal" / "terminal.secret").chmod(0o600)
    assert main(["check-config", str(good)]) == 0
    assert "OK" in capsys.readouterr().out
    bad = write(tmp_path, GOOD.replace('area_code = "370921"', 'area_code = 370921'))
    assert main(["check-config", str(bad)]) == 1
    assert "terminal.area_code" in capsys.readouterr().err


def test_the_kiosk_refuses_to_start_on_a_bad_config(tmp_path):
    bad = write(tmp_path, GOOD.replace('driver = "simulated"', 'driver = "magic"', 1))
    proc = subprocess.run([sys.executable, "-m", "kiosk.cli", "run", "--config", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "devices.idcard.driver: unknown driver 'magic'" in proc.stderr


def test_strict_types_still_take_a_toml_array_for_a_tuple():
    from kiosk.config import _Section

    class Listed(_Section):
        names: tuple[str, ...] = ()
        flag: bool = False

    assert Listed.model_validate({"names": ["a", "b"]}).names == ("a", "b")
    with pytest.raises(ValueError, match="valid boolean"):
        Listed.model_validate({"flag": "yes"})
