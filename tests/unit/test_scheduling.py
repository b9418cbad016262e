"""How the suite is spread over workers: shared fixtures, pcscd and windows (tests/support/scheduling.py)."""

import pytest

from tests.support.scheduling import PCSC_GROUP, WINDOW

pytest_plugins = ["pytester"]

MODULE = """
import pytest

@pytest.fixture(scope="module")
def tour():
    return 1

@pytest.fixture(scope="module")
def backend():
    return 2

@pytest.mark.ui
def test_tour_one(tour): pass
def test_tour_two(tour): pass
def test_both(tour, backend): pass
def test_backend(backend): pass
def test_alone(): pass
@pytest.mark.ui
def test_window_alone(): pass
@pytest.mark.pcsc
def test_card(): pass
@pytest.mark.pcsc
def test_other_card(): pass

@pytest.fixture(scope="module", params=["standard", "elder"])
def shots(request):
    return request.param

@pytest.mark.ui
def test_shots(shots): pass
@pytest.mark.ui
def test_shots_again(shots): pass
"""


@pytest.fixture
def groups(pytester: pytest.Pytester) -> dict:
    pytester.makeconftest(
        "from tests.support.scheduling import group_for_workers\n"
        "def pytest_collection_modifyitems(items):\n"
        "    group_for_workers(items)\n"
    )
    pytester.makepyfile(test_mod=MODULE)
    items, _ = pytester.inline_genitems()
    return {i.name: (m.args[0] if (m := i.get_closest_marker("xdist_group")) else None) for i in items}


def test_each_parameter_of_a_module_fixture_is_a_group_of_its_own(groups):
    assert groups["test_shots[standard]"] == groups["test_shots_again[standard]"]
    assert groups["test_shots[elder]"] == groups["test_shots_again[elder]"]
    assert groups["test_shots[standard]"] != groups["test_shots[elder]"]
    assert groups["test_shots[elder]"].startswith(WINDOW)
    # xdist takes a node id ending in "]" for a parameter, and the group would be lost
    assert not groups["test_shots[elder]"].endswith("]")


def test_tests_sharing_a_module_fixture_are_one_group_and_a_window_if_one_is(groups):
    tour = groups["test_tour_one"]
    assert tour.startswith(WINDOW)
    # linked through test_both, the backend's tests belong to the tour's group too
    assert groups["test_tour_two"] == groups["test_both"] == groups["test_backend"] == tour


def test_the_pcsc_tests_are_one_group_and_other_tests_go_anywhere(groups):
    assert groups["test_card"] == groups["test_other_card"] == PCSC_GROUP
    assert groups["test_alone"] is None


def test_a_windowed_test_alone_is_a_window_of_its_own(groups):
    alone = groups["test_window_alone"]
    assert alone.startswith(WINDOW) and alone != groups["test_tour_one"]
