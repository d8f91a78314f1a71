"""The safe expression subset: what runs, and what is refused."""

from __future__ import annotations

import pytest

from engine import expressions
from storage.errors import DeployError, ExpressionLimitError, UnsafeExpressionError

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


# --- bounds (issue 6, item 4) -------------------------------------------------------------

@pytest.mark.parametrize(("source", "variables"), [
    ('teks * 1500000000 != ""', {"teks": "a"}),
    ("1500000000 * daftar == []", {"daftar": [0]}),
    ("teks + teks != ''", {"teks": "a" * 60_000}),
    ("n * n * n > 0", {"n": 2**100}),
    ("format % n != ''", {"format": "%999999999d", "n": 1}),
    ("-n < 0", {"n": 2**300}),
])
def test_run_time_bounds_refuse_before_building(source: str, variables: dict) -> None:
    with pytest.raises(ExpressionLimitError):
        expressions.evaluate(source, variables)


def test_script_bounds_apply_to_augmented_assignment() -> None:
    variables = {"teks": "a" * 1000}
    with pytest.raises(ExpressionLimitError):
        expressions.execute("teks *= 1000", variables)
    assert variables == {"teks": "a" * 1000}


def test_step_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expressions, "MAX_STEPS", 20)
    assert expressions.evaluate("a + a + a", {"a": 1}) == 3
    with pytest.raises(ExpressionLimitError, match="langkah evaluasi"):
        expressions.evaluate(" + ".join(["a"] * 30), {"a": 1})


@pytest.mark.parametrize("source", ['("a" * 1500000000) != ""', "x == " + "9" * 100, '"%9999d" % 1 == x',
                                    "x in [0] * 200000", "not " * 120 + "x"])
def test_deploy_refuses_what_is_certain_to_exceed(source: str) -> None:
    with pytest.raises(UnsafeExpressionError):
        expressions.check_expression(source)


def test_constant_that_fails_only_when_taken_is_left_to_run_time() -> None:
    assert expressions.evaluate("1 / 0 if x else 2", {"x": False}) == 2
