"""kiosk.heap: the idle full collection, the freeze after it, and when it runs."""

from __future__ import annotations

import gc
import weakref

import pytest

from kiosk import heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture(autouse=True)
def unfrozen():
    yield
    gc.unfreeze()


def test_settle_collects_cycles_and_freezes_what_lives_on():
    gone = cycle()
    kept = Node()
    kept.other = kept
    assert gone() is not None
    done = heap.settle()
    assert gone() is None and done.collected >= 2
    assert done.frozen > 0 and gc.get_freeze_count() > 0  # (frozen objects may still be freed by refcount)


def test_a_frozen_cycle_that_becomes_garbage_is_found_at_the_next_settle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    watch = weakref.ref(a)
    heap.settle()  # a and b are alive: frozen
    del a, b  # now unreachable, but frozen: ordinary collections skip them
    gc.collect()
    assert watch() is not None
    heap.settle()  # unfreezes first: nothing leaks
    assert watch() is None


def test_the_idle_settler_waits_for_home_and_quiet_and_runs_once_per_spell():
    settler = heap.IdleSettler(idle_s=20)
    assert settler.tick(at_home=False, idle_for_s=60) is None  # a resident is mid-matter
    assert settler.tick(at_home=True, idle_for_s=5) is None  # just back home: someone may be there
    first = settler.tick(at_home=True, idle_for_s=21)
    assert first is not None and settler.last is first
    assert settler.tick(at_home=True, idle_for_s=300) is None  # once per idle spell
    settler.activity()
    assert settler.tick(at_home=True, idle_for_s=25) is not None


def test_settling_at_start_up_counts_as_this_spell_s_pass():
    settler = heap.IdleSettler(idle_s=20)
    done = settler.settle_now()
    assert settler.last is done and done.frozen > 0
    assert settler.tick(at_home=True, idle_for_s=300) is None  # nothing new since: no second walk
    settler.activity()
    assert settler.tick(at_home=True, idle_for_s=25) is not None


def test_a_visit_s_end_collects_what_it_left_without_unfreezing():
    a, b = Node(), Node()
    a.other, b.other = b, a
    old = weakref.ref(a)
    heap.settle()  # a and b alive: frozen
    del a, b  # garbage now, but frozen
    settler = heap.IdleSettler(idle_s=20)
    gone = cycle()  # garbage the visit left
    done = settler.visit_over()
    assert gone() is None and done.collected >= 2 and settler.last is done and settler.visits == 1
    assert old() is not None  # the frozen heap was neither walked nor thawed: the idle pass's job
    heap.settle()
    assert old() is None


def test_a_visit_s_end_freezes_what_it_left_so_the_next_walks_only_its_own():
    settler = heap.IdleSettler(idle_s=20)
    heap.settle()
    kept = [Node() for _ in range(5000)]  # a screen built during the visit, kept for the next
    frozen_before = gc.get_freeze_count()
    settler.visit_over()
    # (frozen objects elsewhere may be freed meanwhile by refcount: not exactly 5000 more)
    assert gc.get_freeze_count() >= frozen_before + 4500
    a, b = Node(), Node()
    a.other, b.other = b, a
    dropped = weakref.ref(a)
    settler.visit_over()  # a and b alive: frozen with the rest
    del a, b
    settler.visit_over()
    assert dropped() is not None  # frozen garbage waits for a whole pass ...
    settler.settle_now()
    assert dropped() is None and len(kept) == 5000  # ... which finds it


def test_a_terminal_never_idle_gets_a_whole_pass_every_settle_every_visits():
    settler = heap.IdleSettler(idle_s=20)
    settler.settle_now()
    a, b = Node(), Node()
    a.other, b.other = b, a
    dropped = weakref.ref(a)
    settler.visit_over()
    del a, b
    for _ in range(heap.SETTLE_EVERY - 2):
        settler.visit_over()
    assert dropped() is not None and settler.since_settled == heap.SETTLE_EVERY - 1
    settler.visit_over()  # the SETTLE_EVERY-th end since the last whole pass
    assert dropped() is None and settler.since_settled == 0


def test_tuning_puts_full_collections_between_visits():
    saved = gc.get_threshold()
    try:
        heap.tune()
        young, middle, full = gc.get_threshold()
        assert (young, middle) == saved[:2] and full == heap.FULL_AFTER > saved[2]
        assert gc.isenabled()  # never off: only rarer inside a visit
    finally:
        gc.set_threshold(*saved)
