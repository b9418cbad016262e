"""扫码核验 as journey rules, with fakes (no window, no scanner, no HTTP).

A code identifies only when it was scanned after the resident chose 扫码核验 in this session;
the backend's refusals reach the resident as what to do next; items that need the card itself
do not offer the scan.
"""

from __future__ import annotations

import pytest

from kiosk.config import load_config
from kiosk.errors import BackendError, BackendUnavailableError, IdentityError
from kiosk.hardware.base import DeviceEvent, EventKind
from kiosk.hardware.scanner_frame import ScannedCode
from kiosk.identity import CardType
from kiosk.services.catalogue import load_catalogue
from kiosk.services.journey import Journey, Ports
from kiosk.services.scan_identify import identity_from_code
from tests.support.fakes import FakeJournal, FakeOutbox

ID_NUMBER = "370921195603124027"


class FakeDevices:
    def __init__(self, scanner: bool = True) -> None:
        self.has_scanner = scanner

    def device(self, name: str):
        return None

    def fitted(self, name: str) -> bool:
        return name == "scanner" and self.has_scanner

    def unavailable_reason(self, needs):
        return None


class FakeBackend:
    """Answers like the platform: a known token once, then "used"."""

    def __init__(self, refuse: str = "") -> None:
        self.refuse = refuse
        self.calls: list[tuple[str, str]] = []

    def resolve_identity_code(self, code: str, idempotency_key: str) -> dict:
        self.calls.append((code, idempotency_key))
        if self.refuse == "down":
            raise BackendUnavailableError("no answer")
        if self.refuse:
            raise BackendError(f"HTTP 422 {self.refuse}", code=self.refuse, message_zh="平台原话", message_en="platform words")
        return {"source": "e_sscard", "id_number": ID_NUMBER, "name": "张秀英", "sex": "2",
                "birth_date": "1956-03-12", "masked_name": "张**", "masked_id": "370***********4027"}


def make_journey(scanner: bool = True) -> Journey:
    config = load_config()
    outbox = FakeOutbox()
    ports = Ports(config=config, catalogue=load_catalogue(), backend=FakeBackend(), outbox=outbox, journal=FakeJournal(outbox),
                  devices=FakeDevices(scanner), secret=b"k" * 32)
    j = Journey(ports)
    j._begin = lambda: j._trigger("_t_begin")
    return j


def scan(at: float, text: str = "ESSC1.0123456789abcdef.0123456789abcdef") -> DeviceEvent:
    return DeviceEvent("scanner", EventKind.SCAN, ScannedCode(text, at=at), at=at)


def to_identify(journey: Journey, item: str = "insured_status_query") -> None:
    journey.choose(item)
    journey.proceed()


def test_a_code_scanned_after_choosing_the_scan_is_taken():
    journey = make_journey()
    to_identify(journey)
    journey.start_scan()
    code = journey.accept_scan(scan(journey._scan_since + 0.5))
    assert code is not None and code.text.startswith("ESSC1.")


def test_a_code_scanned_before_the_scan_step_never_identifies():
    journey = make_journey()
    to_identify(journey)
    early = scan(journey._scan_since - 1 if journey._scan_since else 0.0)
    journey.start_scan()
    late_delivery = scan(journey._scan_since - 0.001)  # scanned before, delivered after
    assert journey.accept_scan(late_delivery) is None
    assert journey.accept_scan(early) is None


def test_a_code_counts_only_on_the_scan_step_of_the_identify_state():
    journey = make_journey()
    to_identify(journey)
    assert journey.accept_scan(scan(10**10)) is None  # on the cards' screen: not asked for
    journey.start_scan()
    journey.stop_scan()
    assert journey.accept_scan(scan(10**10)) is None  # went back to the cards
    journey.start_scan()
    journey.end("cancelled")
    assert journey.scanning is False and journey.accept_scan(scan(10**10)) is None


def test_a_new_session_starts_without_the_scan_step():
    journey = make_journey()
    to_identify(journey)
    journey.start_scan()
    journey.end("cancelled")
    journey.settle_farewell(now=10**10)
    to_identify(journey)
    assert journey.scanning is False


def test_items_that_need_the_card_itself_do_not_offer_the_scan():
    journey = make_journey()
    to_identify(journey, "contribution_certificate")
    assert journey.scan_offered() is False
    with pytest.raises(IdentityError) as refused:
        journey.start_scan()
    assert "实体证件" in refused.value.message_zh
    assert journey.scanning is False


def test_no_scanner_fitted_no_scan_offered():
    journey = make_journey(scanner=False)
    to_identify(journey)
    assert journey.scan_offered() is False


def test_a_resolved_code_identifies_with_the_scan_and_keys_differ_per_code():
    journey = make_journey()
    to_identify(journey)
    journey.start_scan()
    backend = journey.ports.backend
    first, second = journey.next_scan_key(), journey.next_scan_key()
    assert first != second and first.startswith(journey.session.reference)
    who = identity_from_code(backend, ScannedCode("ESSC1.x"), first)
    assert who.card_type is CardType.E_SSCARD and who.id_number == ID_NUMBER
    assert "张秀英" not in repr(who)
    journey.identify(who, "scan")
    assert journey.state == "item" and journey.session.identified_by == "scan" and not journey.scanning


def test_an_item_without_the_scan_refuses_a_scanned_identity():
    journey = make_journey()
    to_identify(journey, "contribution_certificate")
    who = identity_from_code(FakeBackend(), ScannedCode("ESSC1.x"), "k-1")
    with pytest.raises(IdentityError):
        journey.identify(who, "scan")
    assert journey.state == "identify"


@pytest.mark.parametrize(("refusal", "says"), [
    ("token_expired", "二维码已过期"),
    ("token_used", "已使用过"),
    ("token_forged", "无法核验"),
    ("token_unknown", "无法识别"),
])
def test_refused_codes_tell_the_resident_what_to_do(refusal, says):
    with pytest.raises(IdentityError) as refused:
        identity_from_code(FakeBackend(refuse=refusal), ScannedCode("ESSC1.x"), "k-1")
    assert says in refused.value.message_zh and refused.value.code == refusal
    if refusal != "token_unknown":
        assert "刷新二维码" in refused.value.message_zh and "Refresh it in your" in refused.value.message_en


def test_a_payment_code_is_not_sent_to_be_resolved():
    backend = FakeBackend()
    with pytest.raises(IdentityError) as refused:
        identity_from_code(backend, ScannedCode("134527980012345678"), "k-1")
    assert "付款码" in refused.value.message_zh and backend.calls == []


def test_a_backend_that_does_not_answer_is_not_a_refusal():
    with pytest.raises(BackendUnavailableError):
        identity_from_code(FakeBackend(refuse="down"), ScannedCode("ESSC1.x"), "k-1")


class DownDevices(FakeDevices):
    """Every reader down but what ``up`` names; reasons in the hub's words."""

    def __init__(self, up: set[str]) -> None:
        super().__init__(scanner=True)
        self.up = up

    def unavailable_reason(self, needs):
        for name in needs:
            if name not in self.up:
                return (f"{name} 未连接", f"The {name} is not connected")
        return None


def test_an_item_is_open_while_any_accepted_way_works_the_scanner_included():
    journey = make_journey()
    journey.ports.devices = DownDevices(up={"scanner"})
    query = journey.ports.catalogue.by_id("insured_status_query")  # cards, keyed or the scan
    assert journey.unavailable_reason(query) is None
    certificate = journey.ports.catalogue.by_id("contribution_certificate")  # the cards only
    assert journey.unavailable_reason(certificate) is not None


def test_an_item_that_only_scans_shows_the_scanner_down():
    journey = make_journey()
    journey.ports.devices = DownDevices(up={"idcard", "sscard", "printer"})
    item = journey.ports.catalogue.by_id("insured_status_query").model_copy(update={"identify": ("scan",)})
    assert journey.unavailable_reason(item) == ("scanner 未连接", "The scanner is not connected")
    assert item.blockers({"idcard", "sscard"}) == ("scanner",)
    assert item.blockers({"scanner"}) == ()
