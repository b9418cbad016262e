"""Money as the resident reads it: one style on every screen, receipt and certificate.

Amounts travel as integer fen (分) everywhere in the kiosk and in the backend's answers;
this is the one place they become text: ``￥1,234.56`` (full-width yuan sign, thousands
separated, two decimals), ``-￥12.00`` for a negative amount. Floats are refused: 0.1 + 0.2
is not 0.3, and a certificate must not be off by a fen.
"""

from __future__ import annotations

SIGN = "￥"


def yuan(fen: int) -> str:
    """``123456`` -> ``￥1,234.56``; ``-1200`` -> ``-￥12.00``."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"amounts are integer fen, not {type(fen).__name__}")
    minus = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{minus}{SIGN}{whole:,}.{cents:02d}"
