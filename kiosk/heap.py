"""Keep Python's full garbage collections out of the resident's way.

The kiosk holds a large, long-lived heap (Kivy widgets and kv rules, fonts, the catalogue,
fontTools and Pillow for the certificates). A full (generation 2) collection walks all of it:
measured at 140-250 ms on this kind of machine, landing at random in the middle of a touch.

So when the terminal is idle at home (nobody has touched it for a while), the kiosk does that
walk itself, and then freezes what survived (``gc.freeze``): the collections that happen while
a resident is being served walk only what was made since. Every idle pass first unfreezes, so a
cycle that became garbage after a freeze is still found at the next idle pass: nothing leaks.

A busy terminal may not sit idle for long between residents. So at each visit's end (the home
screen drawn again) the kiosk collects once, without unfreezing: a walk of what was made since
the last freeze (screens built on their first visit, the visit's own objects), not of the frozen
heap, while nobody waits on a tap; then it freezes what survived, so the next visit's end walks
only that visit's objects, not every screen built since the terminal last sat idle (that walk
grew with each screen visited: 230 ms and more). Inside a visit, a full collection waits for
``FULL_AFTER`` middle-generation collections (CPython's default is 10): the visit's garbage is
walked at its end, not under a resident's finger, and the collector still runs when a visit
makes far more than usual.

What a visit leaves behind and a later one drops (a screen's widgets, rebuilt on its next
visit) is frozen by then: a cycle among them is found by the next idle pass, which unfreezes
first. On a terminal that is never idle for ``IDLE_BEFORE_SETTLE_S``, every ``SETTLE_EVERY``-th
visit's end is a whole pass instead, so such cycles never pile up for more than that many
visits.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: how long nobody must have touched the terminal before the idle pass runs
IDLE_BEFORE_SETTLE_S = 20.0
#: middle-generation collections before a full one (CPython's default: 10)
FULL_AFTER = 100
#: on a terminal never idle long enough, a whole pass at every this many visits' ends
SETTLE_EVERY = 20


@dataclass(frozen=True)
class Settled:
    collected: int  # unreachable objects found
    frozen: int  # objects the collector will skip until the next pass
    ms: float


def tune() -> None:
    """The collector's thresholds for a kiosk: full collections between visits, not in them."""
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_AFTER)


def collect_unfrozen(freeze: bool = False) -> Settled:
    """A full collection of what was made since the last freeze (the frozen heap is not walked);
    with ``freeze``, what survived joins the frozen heap."""
    t0 = time.perf_counter()
    collected = gc.collect()
    if freeze:
        gc.freeze()
    done = Settled(collected, gc.get_freeze_count(), (time.perf_counter() - t0) * 1000)
    log.debug("visit collected: %d unreachable, %d frozen, %.0f ms", done.collected, done.frozen, done.ms)
    return done


def settle() -> Settled:
    """Collect everything (frozen objects included), then freeze the survivors. Call it only
    while nobody is waiting on the screen: it takes as long as a full collection."""
    t0 = time.perf_counter()
    gc.unfreeze()
    collected = gc.collect()
    gc.freeze()
    done = Settled(collected, gc.get_freeze_count(), (time.perf_counter() - t0) * 1000)
    log.info("heap settled: %d unreachable collected, %d frozen, %.0f ms", done.collected, done.frozen, done.ms)
    return done


class IdleSettler:
    """Runs ``settle`` once per idle spell: after the first frame, then after each session,
    once the terminal has sat untouched at home for ``idle_s``; and ``collect_unfrozen`` at
    the end of each visit."""

    def __init__(self, idle_s: float = IDLE_BEFORE_SETTLE_S) -> None:
        self.idle_s = idle_s
        self.pending = True  # the start-up heap is the first thing to settle
        self.visits = 0  # visits whose end was collected
        self.since_settled = 0  # visits' ends frozen since the last whole pass
        self.last: Settled | None = None

    def activity(self) -> None:
        """A resident is using the terminal: settle again when they are gone."""
        self.pending = True

    def visit_over(self) -> Settled:
        """A visit has ended and home is drawn: collect what was made since the last freeze and
        freeze the rest; every ``SETTLE_EVERY``-th visit without an idle pass between, a whole pass."""
        self.visits += 1
        self.since_settled += 1
        if self.since_settled >= SETTLE_EVERY:
            return self.settle_now()
        self.last = collect_unfrozen(freeze=True)
        return self.last

    def tick(self, at_home: bool, idle_for_s: float) -> Settled | None:
        if not (self.pending and at_home and idle_for_s >= self.idle_s):
            return None
        return self.settle_now()

    def settle_now(self) -> Settled:
        """Settle at once (the start-up heap, before anyone can touch the screen); the next
        idle pass waits for the next activity."""
        self.pending = False
        self.since_settled = 0
        self.last = settle()
        return self.last
