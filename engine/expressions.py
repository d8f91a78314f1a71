"""A small, safe expression language for gateway conditions and scripts.

BPMN leaves the expression language of a ``conditionExpression`` open (BPMN 2.0,
section 10.5.2: ``tFormalExpression`` with a ``language`` attribute). SpiffWorkflow
evaluates conditions and scripts with Python's ``eval``/``exec``, which would let
whoever deploys a diagram run any code on the server. Alur never hands diagram text
to ``eval``: it parses it with :mod:`ast`, refuses every construct outside a small
subset, and walks the tree itself.

The subset:

- literals (str, int, float, bool, None), lists, tuples, sets;
- names of process variables (not starting with ``_``);
- ``and``/``or``/``not``, comparisons (``== != < <= > >= in not in is is not``),
  arithmetic (``+ - * / // %``), ``x if c else y``;
- subscripts with a literal key (``dokumen["nomor"]``);
- in scripts only: assignments to variable names (``a = 1``, ``a += 1``), ``if`` and
  ``pass``.

No attribute access, no calls, no comprehensions, no lambdas, no imports: that
alone shuts out ``__import__('os').system(...)`` and
``().__class__.__base__.__subclasses__()``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from storage.errors import UnsafeExpressionError

__all__ = ["check_expression", "check_script", "evaluate", "execute"]

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_CMPOPS = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos,
}
_EXPR_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.BinOp, ast.Compare,
    ast.IfExp, ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Set,
    ast.Subscript, *_BINOPS, *_CMPOPS, *_UNARY,
)
_SCRIPT_NODES = (ast.Module, ast.Assign, ast.AugAssign, ast.If, ast.Pass, ast.Store, ast.Expr)
_MAX_SOURCE_CHARS = 2_000


def _refuse(source: str, node: ast.AST | None, why: str) -> UnsafeExpressionError:
    where = f" (kolom {node.col_offset + 1})" if node is not None and hasattr(node, "col_offset") else ""
    return UnsafeExpressionError(
        f"Ekspresi tidak diizinkan{where}: {why} — {source!r} "
        f"(expression refused: only variables, literals, comparisons and arithmetic are allowed)"
    )


def _parse(source: str, mode: str) -> ast.AST:
    if len(source) > _MAX_SOURCE_CHARS:
        raise _refuse(source[:80] + "…", None, f"lebih dari {_MAX_SOURCE_CHARS} karakter")
    try:
        tree = ast.parse(source.strip(), mode=mode)
    except SyntaxError as exc:
        raise UnsafeExpressionError(f"Ekspresi tidak dapat dibaca: {source!r} ({exc.msg})") from exc
    allowed = _EXPR_NODES + (_SCRIPT_NODES if mode == "exec" else ())
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise _refuse(source, node, f"{type(node).__name__} tidak didukung")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise _refuse(source, node, f"nama {node.id!r} diawali garis bawah")
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Constant):
            raise _refuse(source, node, "indeks harus berupa literal")
        if isinstance(node, ast.Assign) and not all(isinstance(t, ast.Name) for t in node.targets):
            raise _refuse(source, node, "hanya boleh menugaskan ke nama variabel")
        if isinstance(node, ast.AugAssign) and not isinstance(node.target, ast.Name):
            raise _refuse(source, node, "hanya boleh menugaskan ke nama variabel")
    return tree


def check_expression(source: str) -> ast.Expression:
    """Parse a condition and refuse it unless it is in the safe subset.

    Returns the parsed tree. Raises :class:`UnsafeExpressionError` (a
    ``DeployError``) naming the refused construct.
    """
    tree = _parse(source, "eval")
    assert isinstance(tree, ast.Expression)
    return tree


def check_script(source: str) -> ast.Module:
    """Parse a script (script task, pre/post script) and refuse unsafe constructs.

    Raises :class:`UnsafeExpressionError`.
    """
    tree = _parse(source, "exec")
    assert isinstance(tree, ast.Module)
    return tree


def evaluate(source: str, variables: Mapping[str, Any]) -> Any:
    """Evaluate a condition against process variables.

    ``variables`` is the task data (``{"keputusan": "setuju", ...}``). An unknown
    name raises ``NameError`` as Python would, so a misspelt variable is an error,
    not a silent ``False``. Raises :class:`UnsafeExpressionError` for unsafe text.
    """
    return _eval(check_expression(source).body, variables)


def execute(source: str, variables: MutableMapping[str, Any]) -> None:
    """Run a script, updating ``variables`` in place.

    Raises :class:`UnsafeExpressionError` for unsafe text.
    """
    _exec_body(check_script(source).body, variables)


def _exec_body(body: list[ast.stmt], env: MutableMapping[str, Any]) -> None:
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            value = _eval(stmt.value, env)
            for target in stmt.targets:
                assert isinstance(target, ast.Name)  # refused otherwise by _parse
                env[target.id] = value
        elif isinstance(stmt, ast.AugAssign):
            assert isinstance(stmt.target, ast.Name)  # refused otherwise by _parse
            name = stmt.target.id
            env[name] = _BINOPS[type(stmt.op)](env[name], _eval(stmt.value, env))
        elif isinstance(stmt, ast.If):
            _exec_body(stmt.body if _eval(stmt.test, env) else stmt.orelse, env)
        elif isinstance(stmt, ast.Expr):
            _eval(stmt.value, env)


def _eval(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        if node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        raise NameError(f"variabel {node.id!r} belum ada (name {node.id!r} is not defined)")
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            result: Any = True
            for value in node.values:
                result = _eval(value, env)
                if not result:
                    return result
            return result
        result = False
        for value in node.values:
            result = _eval(value, env)
            if result:
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, env))
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, env)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, env) if _eval(node.test, env) else _eval(node.orelse, env)
    if isinstance(node, ast.List):
        return [_eval(e, env) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_eval(e, env) for e in node.elts)
    if isinstance(node, ast.Set):
        return {_eval(e, env) for e in node.elts}
    if isinstance(node, ast.Subscript):
        return _eval(node.value, env)[node.slice.value]  # type: ignore[attr-defined]
    raise UnsafeExpressionError(f"Ekspresi tidak didukung: {type(node).__name__}")
