"""好差评 through the real window (offscreen), driven by real touch events.

``kiosk demo --headless --tour rating_ui`` runs in a subprocess: it reaches the rating screen
after 政务服务地图, taps 不满意 and 提交评价 without a reason (nothing may happen), picks a
reason, then a key on the emulated rating pad answers first and ends the session.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.support import run_tour, step

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rating")
    return run_tour(folder, "rating_ui")


def test_the_tour_passes(tour):
    assert tour["proc"].returncode == 0, tour["proc"].stdout[-3000:] + tour["proc"].stderr[-3000:]
    assert tour["result"]["ok"], tour["result"]["failure"]


def test_five_equal_levels_and_nothing_chosen_at_first(tour):
    texts = step(tour, "rating")["texts"]
    for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert label in texts
    assert not any(t.startswith("【已选】") for t in texts)
    assert "整体满意度" not in texts and "办理时间太长" not in texts  # offered only after a level
    facts = tour["result"]["facts"]
    assert len(facts["level_sizes"]) == 1  # five buttons of one size: none stands out
    chosen = step(tour, "rating-no-reason")["texts"]
    assert "您的评价：不满意" in chosen and "重新选择" in chosen  # what was chosen, and the way back


def test_dissatisfied_without_a_reason_cannot_be_submitted(tour):
    facts = tour["result"]["facts"]
    assert facts["after_submit_without_reason"] == "rating"
    assert facts["can_submit_without_reason"] is False
    texts = step(tour, "rating-no-reason")["texts"]
    assert "请选择不满意的原因（必选），然后点击“提交评价”" in texts
    assert "请先选择原因" in texts  # the disabled submit says what is missing
    for indicator in ("整体满意度", "服务效率", "服务水平", "服务态度"):
        assert indicator in texts  # the on-site indicators follow every level
    assert facts["can_submit_with_reason"] is True
    assert "【已选】办理时间太长" in step(tour, "rating-reason")["texts"]


def test_a_bad_rating_with_its_reasons_fits_the_screen_in_elder_mode(tour):
    assert tour["result"]["facts"]["fits"] == {"reasons_above_qr": True, "title_on_screen": True, "elder": True}


def test_a_pad_key_ends_the_session_and_exactly_one_rating_arrives(tour):
    from kiosk.sim.backend.server import ReferenceBackend

    facts = tour["result"]["facts"]
    assert step(tour, "home-after")["screen"] == "home"
    assert facts["session_holds_personal_data"] is False
    assert facts["outbox_depth_after"] == 0
    assert facts["pad_lit_after"] is False  # the pad's prompt is closed too
    backend = ReferenceBackend(tour["data"] / "backend")
    try:
        ratings = [r["payload"] for r in backend.received("rating") if r["payload"]["transaction_no"] == facts["transaction_no"]]
    finally:
        backend.close()
    assert len(ratings) == 1
    assert ratings[0]["satisfaction"] == 5  # the pad's key, not the screen's unsent 不满意
    assert ratings[0]["item_id"] == "service_map"


def test_the_online_rating_qr_names_the_matter_not_the_person(tour):
    facts = tour["result"]["facts"]
    url = urlparse(facts["online_url"])
    query = parse_qs(url.query)
    assert url.path.endswith("/rate")
    assert query == {"txn": [facts["transaction_no"]], "area": ["370921"], "item": ["service_map"]}
