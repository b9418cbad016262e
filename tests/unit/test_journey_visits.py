"""Where one visit ends and the next begins, as journey rules (no window, no devices, no HTTP).

A card left in a reader must never identify the next resident; a visit that ends with a card
still in a reader or papers printed shows the farewell until they are taken; every end resets
what the resident chose. The readers here are fakes that hold a card object, as the real
drivers do (``current()`` returns the object the CARD_PLACED event carried): the shared fakes
of ``tests.support.fakes``.
"""

from __future__ import annotations

import itertools

import pytest

from kiosk.hardware.base import DeviceEvent, EventKind
from kiosk.identity import CardType, Identity
from kiosk.services.journey import Journey, Outcome
from kiosk.services.rating import Level, Rating
from tests.support.fakes import FakeDevices, FakeTerminal, fake_terminal

_numbers = itertools.count(1)
#: a moment after a time limit: ``since + limit - since`` may come out a hair under ``limit`` in floats
PAST = 0.01


def card(id_number: str = "11010519491231002X") -> Identity:
    """A freshly read card: a new object on every read, like the drivers'."""
    return Identity(CardType.RESIDENT, name=f"居民{next(_numbers)}", id_number=id_number)


@pytest.fixture
def terminal() -> FakeTerminal:
    return fake_terminal()


@pytest.fixture
def devices(terminal) -> FakeDevices:
    return terminal.devices


@pytest.fixture
def journey(terminal) -> Journey:
    return terminal.journey


def to_identify(journey: Journey) -> None:
    journey.choose("contribution_certificate")
    journey.proceed()


def test_a_card_placed_during_the_visit_identifies(journey, devices):
    to_identify(journey)
    who = devices.place("idcard", card())
    assert journey.state == "item" and journey.session.identity is who


def test_a_card_left_from_before_never_identifies_the_next_resident(journey, devices):
    devices.readers["idcard"].card = left = card()  # the last resident's, still on the pad
    to_identify(journey)
    assert journey.state == "identify" and journey.session.identity is None
    assert journey.cards_to_lift() == ("idcard",)
    journey.on_device_event(DeviceEvent("idcard", EventKind.CARD_PLACED, left))  # reported late
    assert journey.state == "identify" and journey.session.identity is None
    devices.take("idcard")
    assert journey.cards_to_lift() == ()
    again = devices.place("idcard", card())  # taken away and placed again: a new read
    assert journey.state == "item" and journey.session.identity is again


def test_a_social_security_card_left_in_the_slot_is_treated_the_same(journey, devices):
    devices.readers["sscard"].card = card()
    to_identify(journey)
    assert journey.cards_to_lift() == ("sscard",) and journey.session.identity is None
    who = devices.place("idcard", card())  # the resident uses their ID card instead
    assert journey.session.identity is who and journey.session.identified_by == "idcard"


def test_a_card_placed_while_the_notice_is_read_is_used_when_identify_opens(journey, devices):
    journey.choose("contribution_certificate")
    who = devices.place("idcard", card())  # on the guide screen: after the session began
    assert journey.state == "guide"
    journey.proceed()
    assert journey.state == "item" and journey.session.identity is who


def test_a_visit_ending_with_a_card_shows_the_farewell_until_it_is_taken(journey, devices):
    to_identify(journey)
    devices.place("idcard", card())
    journey.finish(Outcome(True, "完成", "Done"))
    journey.to_rating()
    assert journey.rate(Rating(Level.SATISFIED))
    assert journey.state == "farewell"
    assert (journey.farewell.reason, journey.farewell.cards) == ("rated", ("idcard",))
    assert not journey.dismiss_farewell()  # 返回首页 cannot skip a card left behind
    journey.settle_farewell(now=journey.farewell.since + 60)
    assert journey.state == "farewell"  # a card is still there: the reminder stays
    devices.take("idcard")
    assert journey.farewell.cards == ()
    journey.settle_farewell(now=journey.farewell.since + journey.ports.config.session.farewell_s + PAST)
    assert journey.state == "home" and journey.farewell is None


def test_a_card_never_taken_gives_up_after_the_timeout_and_still_identifies_nobody(journey, devices):
    to_identify(journey)
    devices.place("idcard", card())
    journey.end("cancelled")
    assert journey.state == "farewell"
    journey.settle_farewell(now=journey.farewell.since + journey.ports.config.session.take_card_timeout_s + PAST)
    assert journey.state == "home"
    to_identify(journey)  # the next resident
    assert journey.session.identity is None and journey.cards_to_lift() == ("idcard",)


def test_papers_printed_during_the_visit_are_named(journey, devices):
    journey.choose("contribution_certificate")
    devices.printer.jobs_completed += 1  # the certificate came out
    journey.end("done")
    assert journey.state == "farewell" and journey.farewell.papers == ("certificate",)


def test_a_cancelled_visit_with_nothing_to_take_goes_straight_home(journey, devices):
    journey.choose("contribution_certificate")
    journey.end("cancelled")
    assert journey.state == "home" and journey.farewell is None


def test_pulling_the_card_mid_item_says_why_the_visit_ended(journey, devices):
    to_identify(journey)
    devices.place("idcard", card())
    devices.take("idcard")
    assert journey.state == "farewell" and journey.farewell.reason == "card_removed"
    assert not journey.session.holds_personal_data


def test_every_end_resets_language_mode_and_category(journey, devices):
    journey.session.locale, journey.session.elder_mode, journey.session.category = "en", True, "payment"
    journey.choose("contribution_certificate")
    journey.end("cancelled")
    s = journey.session
    assert (s.locale, s.elder_mode, s.category) == ("zh_CN", False, "")
    journey.session.locale, journey.session.elder_mode = "en", True
    journey.choose("contribution_certificate")
    devices.place("idcard", card())
    journey.end("cancelled")  # the card is still there: the farewell, in the resident's own terms
    assert journey.state == "farewell" and (journey.session.locale, journey.session.elder_mode) == ("en", True)
    devices.take("idcard")
    assert journey.dismiss_farewell()
    assert (journey.session.locale, journey.session.elder_mode, journey.session.category) == ("zh_CN", False, "")
    journey.session.locale, journey.session.elder_mode = "en", True  # chosen at home by someone who walked away
    journey.end("timeout")
    assert journey.state == "home" and (journey.session.locale, journey.session.elder_mode) == ("zh_CN", False)


def test_a_timed_out_rating_is_not_thanked_for(journey, devices):
    journey.choose("contribution_certificate")
    journey.proceed()
    devices.place("idcard", card())
    journey.finish(Outcome(True, "完成", "Done"))
    journey.to_rating()
    assert journey.rating_timed_out()
    assert journey.farewell.reason == "rating_timeout"  # only the card to take, no thanks
