"""The service catalogue: the shipped file is complete and correct, and bad files are refused
with a message that names the file, the item and the key."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import pytest

from kiosk.config import load_config
from kiosk.errors import ConfigError
from kiosk.services.catalogue import (
    DEFAULT_PATH,
    GUIDE_SECTIONS,
    Category,
    FlowName,
    load_catalogue,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


# --- the shipped catalogue ------------------------------------------------------------------


def test_default_path_is_beside_kiosk_toml():
    assert DEFAULT_PATH == ROOT / "config" / "services.toml"
    assert (DEFAULT_PATH.parent / "kiosk.toml").is_file()


def test_shipped_catalogue_loads_with_at_least_40_items(catalogue):
    assert len(catalogue) >= 40
    assert catalogue.source == DEFAULT_PATH.resolve()


def test_ids_are_unique_and_stable_snake_case(catalogue):
    ids = [item.id for item in catalogue.items]
    assert len(ids) == len(set(ids))
    for item_id in ids:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", item_id), item_id


def test_every_category_is_used(catalogue):
    assert list(catalogue.by_category()) == list(Category)


def test_every_flow_has_an_item_to_run_it(catalogue):
    used = {item.flow for item in catalogue.self_service()}
    assert used == set(typing.get_args(FlowName))


# docs/catalogue.md, "The items residents come for most": (words in the Chinese name, id, flow or None for a guide)
HIGH_FREQUENCY = [
    ("城乡居民养老保险费缴纳", "resident_pension_payment", "resident_pension_payment"),
    ("居民基本医疗保险申报缴费", "resident_medical_payment", "resident_medical_payment"),
    ("灵活就业人员基本养老保险申报缴费", "flexible_pension_payment", "flexible_pension_payment"),
    ("水费缴纳", "water_bill", "utility_payment"),
    ("电费缴纳", "electricity_bill", "utility_payment"),
    ("燃气费缴纳", "gas_bill", "utility_payment"),
    ("个人参保缴费证明查询打印", "contribution_certificate", "contribution_certificate"),
    ("个人权益记录查询打印", "rights_record", "rights_record"),
    ("待遇领取证明查询打印", "benefit_certificate", "benefit_certificate"),
    ("参保缴费证明", "medical_contribution_certificate", "medical_certificate"),
    ("医保个人账户查询", "medical_account_query", "medical_account"),
    ("统筹费用结算明细单", "medical_settlement_statement", "medical_settlement"),
    ("社会保障卡临时挂失", "sscard_temporary_loss", "card_loss"),
    ("城乡居民养老缴费及待遇查询", "resident_pension_query", "resident_pension_query"),
    # done at a window, online or by face recognition: the terminal tells exactly where and how
    ("社会保障卡密码重置", "sscard_password_reset", None),
    ("养老金领取资格认证", "pension_eligibility_certification", None),
    ("个体工商户档案查询", "business_archive_query", None),
    ("不动产登记资料查询", "real_estate_record_query", None),
]


@pytest.mark.parametrize(("name", "item_id", "flow"), HIGH_FREQUENCY)
def test_high_frequency_items_are_present_with_the_right_flow(catalogue, name, item_id, flow):
    item = catalogue.by_id(item_id)
    assert name in item.name_zh
    if flow is None:
        assert item.kind == "guide" and item.flow is None
    else:
        assert item.kind == "self_service" and item.flow == flow


def test_utility_items_say_which_utility(catalogue):
    utilities = {i.id: i.params["utility"] for i in catalogue.items if i.flow == "utility_payment"}
    assert utilities == {
        "water_bill": "water",
        "electricity_bill": "electricity",
        "gas_bill": "gas",
    }
    assert all(not catalogue.by_id(i).identify for i in utilities)  # paid by account number


def test_certificates_need_the_printer_and_a_card_read_never_a_typed_number(catalogue):
    printed = catalogue.by_category()[Category.CERTIFICATE]
    assert len(printed) >= 5
    for item in printed:
        assert item.devices == ("printer",)
        assert set(item.identify) == {"idcard", "sscard"}


def test_card_loss_works_without_the_lost_card(catalogue):
    identify = catalogue.by_id("sscard_temporary_loss").identify
    assert "sscard" not in identify and "keyed" in identify


def test_every_item_has_a_complete_guide(catalogue):
    for item in catalogue.items:
        g = item.guide
        for field, _, _ in GUIDE_SECTIONS:
            value = getattr(g, field)
            assert value, (item.id, field)
            if isinstance(value, tuple):
                assert all(step.strip() for step in value), (item.id, field)
        assert g.conditions_en.isascii() and g.location_en.isascii(), item.id
        assert re.search(r"[\u4e00-\u9fff]", g.conditions), item.id


def test_guides_for_window_items_say_where_and_how(catalogue):
    reset = catalogue.by_id("sscard_password_reset").guide
    assert "窗口" in reset.location and "12333" in reset.location
    assert "本终端不能重置密码" in reset.conditions
    check = catalogue.by_id("pension_eligibility_certification").guide
    assert "人脸识别" in check.location and "窗口" in check.location


def test_english_names_are_real_translations(catalogue):
    for item in catalogue.items:
        assert item.name_en != item.name_zh
        assert item.name_en.isascii(), item.id
        assert len(item.name_en.split()) >= 2, item.id


def test_guide_sections_read_in_english_with_a_chinese_fallback(catalogue):
    sections = {
        name: (label, value)
        for name, label, value in catalogue.by_id("water_bill").guide.sections("en")
    }
    assert sections["conditions"][0] == "Who can apply"
    assert sections["conditions"][1].startswith("Any customer")
    assert sections["basis"][1] == "《城市供水条例》"  # no English text: the Chinese one is shown
    zh = catalogue.by_id("water_bill").guide.sections()
    assert [label for _, label, _ in zh][:3] == ["申请条件", "申请材料", "办理流程"]


def test_items_are_frozen(catalogue):
    with pytest.raises(ValueError):
        catalogue.items[0].name_zh = "改"


def test_unknown_id_is_a_key_error(catalogue):
    with pytest.raises(KeyError, match="no_such_item"):
        catalogue.by_id("no_such_item")
    assert "water_bill" in catalogue and "no_such_item" not in catalogue


def test_categories_are_in_display_order_with_items_in_file_order(catalogue):
    groups = catalogue.by_category()
    assert [c.order for c in groups] == sorted(c.order for c in groups)
    assert [c.label_zh for c in groups][:3] == ["社保", "医保", "缴费"]
    for category, items in groups.items():
        assert all(i.category is category for i in items)
        positions = [catalogue.items.index(i) for i in items]
        assert positions == sorted(positions)


def test_service_point_labels_in_kiosk_toml_are_categories():
    cfg = load_config(ROOT / "config" / "kiosk.toml")
    labels = {label for point in cfg.service_points for label in point.items}
    assert labels
    for label in labels:
        assert Category.from_label(label).label_zh == label
    with pytest.raises(ValueError):
        Category.from_label("住房")


def test_self_service_lists_only_items_run_here(catalogue):
    runnable = catalogue.self_service()
    assert len(runnable) >= 16
    assert all(i.flow is not None for i in runnable)
    assert len(runnable) < len(catalogue)


# --- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "first"),
    [
        ("水费", "water_bill"),
        ("sf", "water_bill"),  # pinyin initials
        ("ｓｆ", "water_bill"),  # full-width letters from an on-screen keyboard
        ("Water bill", "water_bill"),
        ("低保", "minimum_living_allowance"),
        ("dibao", "minimum_living_allowance"),
        ("挂失", "sscard_temporary_loss"),
        ("电费", "electricity_bill"),
        ("结算单", "medical_settlement_statement"),
    ],
)
def test_search_puts_the_obvious_item_first(catalogue, keyword, first):
    assert catalogue.search(keyword)[0].id == first


def test_search_finds_by_tag_and_keeps_unrelated_items_out(catalogue):
    found = {i.id for i in catalogue.search("社保卡")}
    assert {"sscard_temporary_loss", "sscard_status_query", "sscard_password_reset"} <= found
    assert "water_bill" not in found
    assert "transfer" not in " ".join(i.name_en.lower() for i in catalogue.search("sf"))


def test_search_with_no_match_or_no_keyword(catalogue):
    assert catalogue.search("zzzqqq") == ()
    assert catalogue.search("  ") == catalogue.items


# --- availability ----------------------------------------------------------------------------


def test_blockers_name_what_stops_an_item(catalogue):
    cert = catalogue.by_id("contribution_certificate")
    assert cert.blockers({"idcard", "sscard", "printer"}) == ()
    assert cert.blockers({"idcard", "sscard"}) == ("printer",)
    assert cert.blockers({"sscard", "printer"}) == ()  # one reader is enough
    assert cert.blockers({"printer"}) == ("idcard", "sscard")
    assert cert.blockers({"idcard", "printer"}, backend_up=False) == ("backend",)


def test_keyed_items_and_guides_are_not_blocked_by_readers(catalogue):
    assert catalogue.by_id("sscard_temporary_loss").blockers(set()) == ()
    assert catalogue.by_id("minimum_living_allowance").blockers(set(), backend_up=False) == ()
    assert catalogue.by_id("service_map").blockers(set(), backend_up=False) == ()
    assert catalogue.by_id("water_bill").blockers(set(), backend_up=False) == ("backend",)


# --- bad files -------------------------------------------------------------------------------

GUIDE = {
    "basis": "《中华人民共和国社会保险法》",
    "conditions": "参保人员本人",
    "conditions_en": "Insured people",
    "materials": ["身份证"],
    "process": ["读卡", "打印"],
    "time_limit": "即时办结",
    "fees": "免费",
    "contact": "12333",
    "location": "本终端",
    "location_en": "This terminal",
}


def _item(**changes) -> dict:
    item = {
        "id": "print_it",
        "name_zh": "打印证明",
        "name_en": "Print a certificate",
        "category": "certificate",
        "kind": "self_service",
        "identify": ["idcard", "sscard"],
        "devices": ["printer"],
        "online": True,
        "flow": "contribution_certificate",
        "guide": dict(GUIDE),
    }
    for key, value in changes.items():
        if key.startswith("guide_"):
            name = key.removeprefix("guide_")
            if value is None:
                del item["guide"][name]
            else:
                item["guide"][name] = value
        elif value is None:
            del item[key]
        else:
            item[key] = value
    return item


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(v, ensure_ascii=False)


def _toml(*items: dict) -> str:
    out = []
    for item in items:
        out.append("[[items]]")
        out += [f"{k} = {_value(v)}" for k, v in item.items() if k != "guide"]
        if "guide" in item:
            out.append("[items.guide]")
            out += [f"{k} = {_value(v)}" for k, v in item["guide"].items()]
    return "\n".join(out) + "\n"


def _load(tmp_path: Path, text: str):
    path = tmp_path / "services.toml"
    path.write_text(text, encoding="utf-8")
    return load_catalogue(path), path


def test_a_minimal_valid_file_loads(tmp_path):
    catalogue, _ = _load(
        tmp_path,
        _toml(_item(), _item(id="guide_only", kind="guide", flow=None, identify=[], devices=[])),
    )
    assert [i.id for i in catalogue.items] == ["print_it", "guide_only"]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param(
            [_item(), _item(name_zh="另一个")],
            r"items\[print_it\]\.id: duplicate id",
            id="duplicate-id",
        ),
        pytest.param(
            [_item(category="housing")],
            r"items\[print_it\]\.category: 'housing' is not allowed",
            id="unknown-category",
        ),
        pytest.param(
            [_item(flow="teleport")],
            r"items\[print_it\]\.flow: 'teleport' is not allowed",
            id="unknown-flow",
        ),
        pytest.param(
            [_item(devices=["fingerprint"])],
            r"items\[print_it\]\.devices\[0\]: 'fingerprint' is not allowed",
            id="unknown-device",
        ),
        pytest.param(
            [_item(identify=["idcard", "face"])],
            r"items\[print_it\]\.identify\[1\]: 'face' is not allowed",
            id="unknown-identify",
        ),
        pytest.param(
            [_item(flow=None)],
            r"items\[print_it\]\.flow: missing key: a self_service item needs",
            id="self-service-without-flow",
        ),
        pytest.param(
            [_item(online=None)],
            r"items\[print_it\]\.online: missing key",
            id="self-service-online-implicit",
        ),
        pytest.param(
            [_item(kind="guide", identify=[], devices=[])],
            r"items\[print_it\]\.flow: only self_service items run a flow",
            id="guide-with-flow",
        ),
        pytest.param(
            [_item(guide_fees=None)],
            r"items\[print_it\]\.guide\.fees: missing key",
            id="missing-guide-field",
        ),
        pytest.param(
            [_item(guide_location_en=None)],
            r"items\[print_it\]\.guide\.location_en: missing key",
            id="missing-english-location",
        ),
        pytest.param(
            [_item(guide_materials=[])],
            r"items\[print_it\]\.guide\.materials: must not be empty",
            id="empty-materials",
        ),
        pytest.param([_item(guide=None)], r"items\[print_it\]\.guide: missing key", id="no-guide"),
        pytest.param([_item(flwo="x")], r"items\[print_it\]\.flwo: unknown key", id="typo-key"),
        pytest.param([_item(id=None)], r"items\[#1\]\.id: missing key", id="no-id"),
        pytest.param(
            [_item(id="Print-It")],
            r"items\[Print-It\]\.id: 'Print-It' is not a stable id",
            id="bad-id",
        ),
        pytest.param(
            [_item(devices=["printer", "ratingpad"])],
            r"items\[print_it\]\.devices: the rating pad is never required",
            id="ratingpad-required",
        ),
        pytest.param(
            [_item(flow="utility_payment", params={"utility": "heating"})],
            r"items\[print_it\]\.params\.utility: 'heating' is not allowed",
            id="unknown-utility",
        ),
        pytest.param(
            [_item(online="yes")], r"items\[print_it\]\.online: wrong type", id="wrong-type"
        ),
        pytest.param(
            [_item(guide_process_en=["Read the card"])],
            r"items\[print_it\]\.guide\.process_en: has 1 entries, guide\.process has 2",
            id="partial-english-steps",
        ),
    ],
)
def test_bad_items_are_refused_naming_file_item_and_key(tmp_path, items, expected):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, _toml(*items))
    message = str(caught.value)
    assert str(tmp_path / "services.toml") in message
    assert re.search(expected, message), message


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, _toml(_item(id="a", category="housing"), _item(id="b", guide_fees=None)))
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert "items[a].category" in lines[0] and "items[b].guide.fees" in lines[1]


def test_bad_toml_is_refused_naming_the_file(tmp_path):
    with pytest.raises(ConfigError, match=r"services\.toml: not valid TOML"):
        _load(tmp_path, '[[items]]\nid = "x\n')


def test_a_file_without_items_or_with_stray_keys_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"items: missing key"):
        _load(tmp_path, 'title = "x"\n')
    with pytest.raises(ConfigError, match=r"services\.toml: title: unknown key"):
        _load(tmp_path, 'title = "x"\n' + _toml(_item()))


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"nowhere\.toml: file not found"):
        load_catalogue(tmp_path / "nowhere.toml")


def test_every_item_names_the_seed_list_it_comes_from(catalogue):
    counties = ("宁阳县", "威海临港", "呼图壁县", "襄垣县")
    for item in catalogue.items:
        assert any(src.startswith(counties) for src in item.source), item.id


def test_self_service_guides_are_fully_in_english_too(catalogue):
    for item in catalogue.self_service():
        g = item.guide
        assert len(g.materials_en) == len(g.materials), item.id
        assert len(g.process_en) == len(g.process), item.id
        assert g.time_limit_en and g.fees_en, item.id
        assert all(text.isascii() for text in (*g.materials_en, *g.process_en)), item.id


def test_items_can_be_set_members_and_dict_keys(catalogue):
    water = catalogue.by_id("water_bill")
    assert {water, catalogue.by_id("water_bill"), catalogue.by_id("gas_bill")} == {
        water,
        catalogue.by_id("gas_bill"),
    }
    assert {water: 1}[catalogue.by_id("water_bill")] == 1
