"""One money style on every screen, receipt and certificate: ``￥1,234.56`` from integer fen."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import kiosk
from kiosk.money import yuan
from kiosk.receipt import Receipt

ROOT = Path(kiosk.__file__).parent


@pytest.mark.parametrize(("fen", "text"), [
    (0, "￥0.00"), (5, "￥0.05"), (1234, "￥12.34"), (123456, "￥1,234.56"),
    (18202400, "￥182,024.00"), (100000000, "￥1,000,000.00"), (-1200, "-￥12.00"),
])
def test_fen_read_as_yuan_with_sign_separators_and_two_decimals(fen, text):
    assert yuan(fen) == text


@pytest.mark.parametrize("amount", [12.34, 1234.0, True, "1234", None])
def test_anything_but_integer_fen_is_refused(amount):
    with pytest.raises(TypeError):
        yuan(amount)


def test_a_receipt_total_is_in_the_same_style():
    receipt = Receipt("缴费凭证", "T1", "2026-01-01 00:00:00", "K1", amount_fen=18202400)
    assert receipt.amount_text == "￥182,024.00"  # was ￥182024.00, without the separator


def test_no_module_formats_money_its_own_way():
    """No second ``yuan``, no ``￥{...}`` or ``{...}元`` built by hand, no fen divided into a float."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel == Path("money.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") == "yuan":
                offenders.append(f"{rel}:{node.lineno} defines {node.name}")
            if isinstance(node, ast.JoinedStr):
                parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
                text = "".join(str(p) for p in parts)
                fen = any(isinstance(v, ast.FormattedValue) and "fen" in ast.unparse(v.value) for v in node.values)
                if re.search(r"￥\{\}|\{\}元", text) and fen:
                    offenders.append(f"{rel}:{node.lineno} formats an amount by hand: {ast.unparse(node)[:60]}")
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and "fen" in ast.unparse(node.left):
                offenders.append(f"{rel}:{node.lineno} divides fen into a float")
    assert offenders == []
