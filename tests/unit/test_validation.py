"""One way of saying what failed validation: the config, the catalogue and the payloads agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.backend.payloads import help_request
from kiosk.config import DEFAULT_PATH, load_config
from kiosk.errors import ConfigError
from kiosk.services.catalogue import parse_catalogue

GOOD = DEFAULT_PATH.read_text(encoding="utf-8")


def _config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    return str(e.value)


def test_a_pattern_the_config_does_not_meet_is_named_with_the_value(tmp_path):
    message = _config_error(tmp_path, GOOD.replace('area_code = "370921"', 'area_code = "37092"'))
    assert "terminal.area_code: '37092' does not match ^[0-9]{6}$" in message


def test_an_empty_terminal_id_is_called_empty_as_in_the_catalogue(tmp_path):
    message = _config_error(tmp_path, GOOD.replace('id = "', 'id = "" #', 1))
    assert "terminal.id: must not be empty" in message


def test_the_catalogue_and_the_config_say_missing_key_and_unknown_key_alike(tmp_path):
    with pytest.raises(ConfigError) as e:
        parse_catalogue({"items": [{"id": "x_item", "nmae": "typo"}]}, tmp_path / "services.toml")
    assert "items[x_item].nmae: unknown key (a typo?)" in str(e.value)
    assert "items[x_item].name_zh: missing key" in str(e.value)
    message = _config_error(tmp_path, GOOD.replace("[session]", "[session]\nidle_timout_s = 3"))
    assert "session.idle_timout_s: unknown key (a typo?)" in message


def test_a_refused_payload_names_the_field_but_never_its_value():
    with pytest.raises(ValueError) as e:
        help_request("1381234567", "water_bill", "水费缴纳")  # ten digits
    assert "HelpRequestIn: invalid phone" in str(e.value)
    assert "1381234567" not in str(e.value)
