"""The step indicator's steps, built from the item, and the step the resident is on."""

from kiosk.services.catalogue import load_catalogue
from kiosk.services.steps import current_step, steps_for

CATALOGUE = load_catalogue()


def keys(item_id: str) -> list[str]:
    return [s.key for s in steps_for(CATALOGUE.by_id(item_id))]


def test_a_certificate_reads_identifies_checks_prints_and_is_rated():
    assert keys("contribution_certificate") == ["notice", "identify", "preview", "result", "rating"]


def test_a_water_bill_needs_no_identification():
    assert keys("water_bill") == ["notice", "account", "confirm", "pay", "result", "rating"]


def test_a_guide_has_no_steps():
    assert keys("sscard_password_reset") == []


def test_every_self_service_item_has_steps_with_both_languages():
    for item in CATALOGUE.items:
        steps = steps_for(item)
        if item.is_self_service:
            assert len(steps) >= 4 and all(s.zh and s.en for s in steps), item.id


def test_the_current_step_follows_the_journey_and_the_screen():
    steps = steps_for(CATALOGUE.by_id("water_bill"))
    assert current_step(steps, "guide", "guide") == 0
    assert current_step(steps, "item", "payment_account") == 1
    assert current_step(steps, "item", "payment_qr") == 3
    assert current_step(steps, "rating", "rating") == 5
    assert current_step(steps, "home", "home") == -1
    query = steps_for(CATALOGUE.by_id("insured_status_query"))
    assert [s.key for s in query][current_step(query, "item", "query")] == "view"
