"""The private pcscd (``kiosk.sim.pcscd``) as a pytest fixture, for the PC/SC tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kiosk.sim.pcscd import SETUP_HINT, PcscdUnavailable, PrivatePcscd, pcscd_binary, vpcd_driver

__all__ = ["PrivatePcscd", "pcscd_fixture"]


def pcscd_fixture(scope: str = "module") -> Callable:
    """A pytest fixture factory: ``pcscd = pcscd_fixture()`` in a test module gives a running
    ``PrivatePcscd``; the tests are skipped with the reason when the packages are missing, and
    fail when a foreign pcscd is in the way (that is a machine to fix, not a test to skip)."""

    @pytest.fixture(scope=scope)
    def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePcscd]:
        if pcscd_binary() is None or vpcd_driver() is None:
            pytest.skip(f"pcscd / vpcd not installed: {SETUP_HINT}")
        pytest.importorskip("smartcard")
        try:
            pcsc = PrivatePcscd(tmp_path_factory.mktemp("pcscd")).start()
        except PcscdUnavailable as e:
            pytest.fail(str(e), pytrace=False)
        try:
            yield pcsc
        finally:
            pcsc.stop()

    return pcscd
