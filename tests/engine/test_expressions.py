"""The safe expression subset: what runs, and what is refused."""

from __future__ import annotations

import pytest

from engine import expressions
from storage.errors import DeployError, UnsafeExpressionError

ATTACKS = [
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
    "open('/etc/passwd').read()",
    "keputusan.__class__",
    "(lambda: 1)()",
    "[x for x in range(10**9)]",
    "globals()",
    "_secret == 1",
    "keputusan[0:1]",
    "exec('1')",
]


@pytest.mark.parametrize("source", ATTACKS)
def test_attacks_are_refused_as_conditions(source: str) -> None:
    with pytest.raises(UnsafeExpressionError) as info:
        expressions.check_expression(source)
    assert isinstance(info.value, DeployError)
    assert "tidak" in str(info.value)


@pytest.mark.parametrize("source", [*ATTACKS, "import os", "x = __import__('os')", "del x",
                                     "for i in range(3):\n    pass", "def f():\n    pass"])
def test_attacks_are_refused_as_scripts(source: str) -> None:
    with pytest.raises(UnsafeExpressionError):
        expressions.check_script(source)


@pytest.mark.parametrize(
    ("source", "variables", "expected"),
    [
        ('keputusan == "setuju"', {"keputusan": "setuju"}, True),
        ('keputusan == "setuju"', {"keputusan": "tidak"}, False),
        ('keputusan != "tidak" and jumlah >= 3', {"keputusan": "setuju", "jumlah": 3}, True),
        ("not selesai or jumlah * 2 > 10", {"selesai": True, "jumlah": 6}, True),
        ('status in ["a", "b"]', {"status": "b"}, True),
        ('dokumen["nomor"] == "005/12"', {"dokumen": {"nomor": "005/12"}}, True),
        ("1 < x < 3", {"x": 2}, True),
        ("1 < x < 3", {"x": 3}, False),
        ('"ya" if x else "tidak"', {"x": 0}, "tidak"),
        ("None is x", {"x": None}, True),
    ],
)
def test_safe_expressions_evaluate(source: str, variables: dict, expected: object) -> None:
    assert expressions.evaluate(source, variables) == expected


def test_unknown_variable_is_an_error_not_false() -> None:
    with pytest.raises(NameError):
        expressions.evaluate('keputusn == "setuju"', {"keputusan": "setuju"})


def test_script_assigns_and_branches() -> None:
    variables: dict = {"n": 1}
    expressions.execute("n += 2\nif n > 2:\n    status = 'besar'\nelse:\n    status = 'kecil'", variables)
    assert variables == {"n": 3, "status": "besar"}


def test_overlong_expression_is_refused() -> None:
    with pytest.raises(UnsafeExpressionError):
        expressions.check_expression("x == 1 or " * 300 + "x == 2")
