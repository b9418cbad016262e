"""Application items as catalogue data: the shipped ones are complete, the code tables they pick
from are sound, and bad data is refused with one line naming the file, the item and the key."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import pytest

from kiosk.errors import ConfigError
from kiosk.services.application_spec import DOCUMENTS
from kiosk.services.catalogue import DEFAULT_PATH, load_catalogue, parse_catalogue
from kiosk.services.codes import REGIONS_PATH, TABLES_PATH, load_codes

APPLICATIONS = {
    "resident_pension_enrolment", "resident_medical_enrolment", "flexible_worker_enrolment",
    "longevity_allowance", "elderly_preferential_card", "unemployment_registration",
    "job_seeker_registration", "vocational_training_enrolment",
}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def raw_item():
    raw = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    return next(i for i in raw["items"] if i["id"] == "longevity_allowance")


def test_at_least_eight_items_take_applications_with_form_materials_and_commitment(catalogue):
    taken = {i.id for i in catalogue.items if i.flow == "application"}
    assert APPLICATIONS <= taken
    for item_id in taken:
        item = catalogue.by_id(item_id)
        spec = item.application
        assert spec is not None and item.is_self_service and "camera" in item.devices
        assert {f.source for f in spec.fields if f.kind == "identity"} >= {"name", "id_number"}
        assert any(f.kind == "phone" for f in spec.fields) and spec.commitment_zh and spec.commitment_en
        assert any(m.required for m in spec.materials)
        for m in spec.materials:
            assert m.document in DOCUMENTS and m.pages_min <= m.pages_max
        assert item.guide.time_limit_en and str(spec.promise_days) in item.guide.time_limit


def test_progress_is_a_self_service_item_identified_by_card(catalogue):
    item = catalogue.by_id("application_progress")
    assert item.flow == "application_progress" and item.is_self_service
    assert item.identify == ("idcard", "sscard") and item.online


def test_the_code_tables_and_regions_load_with_the_demo_county_and_its_neighbours():
    codes = load_codes()
    for table in ("hukou_type", "pension_grade", "education", "unemployment_reason", "job_type", "bank"):
        assert codes.table(table).entries
    county = codes.regions["370921"]
    assert county.zh == "宁阳县" and codes.path("370921")[0].zh == "山东省"
    townships = codes.children("370921")
    assert len(townships) >= 10 and all(r.level == "township" for r in townships)
    assert {r.zh for r in codes.children("370900")} >= {"宁阳县", "岱岳区", "泰山区", "肥城市"}
    assert codes.address("370921109001") == "山东省泰安市宁阳县葛石镇东庄村"


def _refused(tmp_path: Path, item: dict) -> str:
    path = tmp_path / "services.toml"
    with pytest.raises(ConfigError) as caught:
        parse_catalogue({"items": [item]}, path)
    message = str(caught.value)
    assert str(path) in message
    return message


@pytest.mark.parametrize(("change", "expected"), [
    pytest.param(lambda i: i["application"]["fields"][5].update(table="bank_accounts"),
                 r"items\[longevity_allowance\]\.application\.fields\[5\]\.table: unknown code table 'bank_accounts'",
                 id="unknown-table"),
    pytest.param(lambda i: i["application"]["fields"][0].pop("source"),
                 r"items\[longevity_allowance\]\.application\.fields\[0\]\.source: missing",
                 id="identity-without-source"),
    pytest.param(lambda i: i["application"]["fields"][1].update(kind="free_text"),
                 r"items\[longevity_allowance\]\.application\.fields\[1\]\.kind: 'free_text' is not allowed",
                 id="free-text-field"),
    pytest.param(lambda i: i["application"]["fields"][6].update(min=30, max=20),
                 r"items\[longevity_allowance\]\.application\.fields\[6\]\.min: 30 is above max 20",
                 id="number-bounds"),
    pytest.param(lambda i: i["application"]["materials"][2].update(licence=True),
                 r"items\[longevity_allowance\]\.application\.materials\[2\]\.licence: the platform keeps no",
                 id="licence-of-a-bank-card"),
    pytest.param(lambda i: i["application"]["materials"][0].update(document="passport"),
                 r"items\[longevity_allowance\]\.application\.materials\[0\]\.document: 'passport' is not allowed",
                 id="unknown-document"),
    pytest.param(lambda i: i["application"].pop("commitment_zh"),
                 r"items\[longevity_allowance\]\.application\.commitment_zh: missing key",
                 id="no-commitment"),
    pytest.param(lambda i: i.update(devices=[]),
                 r"items\[longevity_allowance\]\.devices: an item that takes materials needs the camera",
                 id="no-camera"),
    pytest.param(lambda i: i.pop("application"),
                 r"items\[longevity_allowance\]\.application: missing: an application item needs",
                 id="no-application-table"),
    pytest.param(lambda i: i.update(flow="service_map"),
                 r"items\[longevity_allowance\]\.application: only items with flow = \"application\"",
                 id="application-on-another-flow"),
    pytest.param(lambda i: i["application"].update(promise_days=0),
                 r"items\[longevity_allowance\]\.application\.promise_days: Input should be greater than or equal to 1",
                 id="promise-days"),
])
def test_bad_application_data_is_refused_naming_file_item_and_key(tmp_path, raw_item, change, expected):
    item = copy.deepcopy(raw_item)
    change(item)
    message = _refused(tmp_path, item)
    assert re.search(expected, message), message


def test_bad_code_tables_are_refused_naming_the_file_and_the_entry(tmp_path):
    tables = tmp_path / "code_tables.toml"
    tables.write_text(TABLES_PATH.read_text(encoding="utf-8").replace(
        '{ code = "20", zh = "农业户口（农村）"', '{ code = "10", zh = "农业户口（农村）"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_codes(tables, REGIONS_PATH)
    assert f"{tables}: tables.hukou_type.entries[1].code: '10' is used twice" in str(caught.value)
    regions = tmp_path / "regions.toml"
    regions.write_text(REGIONS_PATH.read_text(encoding="utf-8").replace(
        'code = "370921109001", zh = "东庄村", en = "Dongzhuang Village", parent = "370921109"',
        'code = "370921109001", zh = "东庄村", en = "Dongzhuang Village", parent = "370921108"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_codes(TABLES_PATH, regions)
    assert f"{regions}: regions[370921109001].code: does not lie inside its parent 370921108" in str(caught.value)


def test_a_county_catalogue_picks_its_own_code_tables_from_beside_it(tmp_path):
    (tmp_path / "services.toml").write_text(DEFAULT_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "regions.toml").write_text(REGIONS_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "code_tables.toml").write_text(
        TABLES_PATH.read_text(encoding="utf-8").replace("[tables.bank]", "[tables.paying_bank]"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"application\.fields\[\d\]\.table: unknown code table 'bank'"):
        load_catalogue(tmp_path / "services.toml")
