"""帮办代办 and 政务服务地图 against the real outbox, delivery worker and reference backend."""

from __future__ import annotations

import pytest

from kiosk.services.assistance import InvalidPhoneError, is_mobile_number


def start(s, flow: str):
    item = s.item_for_flow(flow)
    s.journey.choose(item.id)
    s.journey.proceed()  # no identification: straight into the item
    assert s.journey.state == "item"
    return s.journey.flow


@pytest.mark.parametrize("phone", ["13853801201", "19912345678", "16600000000"])
def test_mobile_numbers_are_accepted(phone):
    assert is_mobile_number(phone)


@pytest.mark.parametrize("phone", ["", "1385380120", "138538012011", "12853801201", "23853801201", "0538562123x"])
def test_other_numbers_are_not(phone):
    assert not is_mobile_number(phone)


def test_help_request_reaches_the_backend_through_the_outbox_once(scripted, reference_backend):
    flow = start(scripted, "help_request")
    matters = flow.matters("social_security")
    assert matters and all(m.category.value == "social_security" for m in matters)
    assert any(m.kind == "guide" for m in matters)  # guides are matters one may need help with
    assert all(m.flow not in ("help_request", "service_map") for m in flow.matters())
    assert {c.key for c in flow.categories()} >= {"social_security", "payment"}
    matter = matters[0]

    outcome = flow.submit("13853801299", matter.id)
    assert outcome.ok and "138****1299" in outcome.message_zh and "13853801299" not in outcome.message_zh
    assert flow.submit("13853801299", matter.id) is outcome  # a second tap queues nothing new
    reference = outcome.reference
    assert reference == scripted.journey.session.transaction_no

    scripted.kiosk.delivery.flush(10)
    received = [r for r in reference_backend.received("help_request") if r["payload"]["item_id"] == matter.id]
    assert len(received) == 1
    payload = received[0]["payload"]
    assert payload["phone"] == "13853801299" and payload["item_name"] == matter.name_zh
    assert payload["requested_at"]


def test_help_request_is_kept_while_the_backend_is_down(scripted, reference_backend):
    flow = start(scripted, "help_request")
    reference_backend.faults.set("5xx", path_prefix="/v1/help-requests")
    outcome = flow.submit("13900001111", "sscard_password_reset")
    assert outcome.ok  # queued on disk: the resident is told staff will call
    scripted.kiosk.delivery.flush(2)
    assert not [r for r in reference_backend.received("help_request") if r["payload"]["phone"] == "13900001111"]
    assert scripted.kiosk.outbox.depth() >= 1
    reference_backend.faults.clear()
    scripted.kiosk.delivery.flush(20)
    got = [r for r in reference_backend.received("help_request") if r["payload"]["phone"] == "13900001111"]
    assert len(got) == 1 and got[0]["payload"]["item_id"] == "sscard_password_reset"


def test_help_request_refuses_a_bad_number_and_queues_nothing(scripted):
    flow = start(scripted, "help_request")
    before = scripted.kiosk.outbox.depth()
    with pytest.raises(InvalidPhoneError):
        flow.submit("1385380", "sscard_password_reset")
    assert scripted.kiosk.outbox.depth() == before
    assert flow.outcome is None


def test_service_map_lists_points_and_filters_by_category(scripted):
    flow = start(scripted, "service_map")
    points = scripted.kiosk.config.service_points
    assert len(flow.points()) == len(points) >= 2
    choices = flow.categories()
    assert choices[0].key == "" and choices[0].zh == "全部"
    keys = [c.key for c in choices[1:]]
    assert "social_security" in keys and "payment" in keys
    paying = flow.points("payment")
    assert paying and all("缴费" in p.categories for p in paying)
    assert len(paying) < len(flow.points()) or all("缴费" in p.items for p in points)
    first = flow.points()[0]
    assert first.address in first.qr_text and first.phone in first.qr_text
    assert first.terminal_zh in ("有24小时自助终端", "无自助终端")
    assert flow.done_outcome().ok
