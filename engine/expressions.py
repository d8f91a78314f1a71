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

Bounds, so that a careless or hostile diagram cannot exhaust the server:

- at most :data:`MAX_SIZE` characters in a string and elements in a list, tuple
  or set, and integers of at most :data:`MAX_INT_BITS` bits. ``*`` and ``+`` are
  checked *before* they build their result (``"a" * 1500000000`` never
  allocates); every other result after each operation. ``%`` on a string
  (printf formatting, ``"%999999999d"``) is refused; ``**``, shifts and calls are
  not in the subset at all;
- at most :data:`MAX_STEPS` nodes evaluated per condition or script;
- at most :data:`MAX_DEPTH` levels of nesting;
- at deploy, every constant part of an expression is evaluated under the same
  bounds (constant folding), so what is certain to exceed them is refused then,
  not when a user completes a task.

A bound exceeded at run time raises :class:`~storage.errors.ExpressionLimitError`.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from storage.errors import ExpressionLimitError, UnsafeExpressionError

__all__ = [
    "MAX_DEPTH", "MAX_INT_BITS", "MAX_SIZE", "MAX_STEPS", "check_expression", "check_script", "evaluate",
    "execute", "names_read",
]

MAX_SIZE = 100_000
"""Most characters of a string, or elements of a list/tuple/set/dict, an expression may build."""
MAX_INT_BITS = 256
"""Most bits of an integer an expression may build (about 77 decimal digits)."""
MAX_STEPS = 10_000
"""Most syntax-tree nodes evaluated by one condition or script."""
MAX_DEPTH = 100
"""Most levels of nesting in one condition or script."""

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
_CONSTANT_NAMES = {"True": True, "False": False, "None": None}
_SEQUENCES = (str, bytes, list, tuple)


def _refuse(source: str, node: ast.AST | None, why: str,
            english: str = "only variables, literals, comparisons and arithmetic are allowed",
            ) -> UnsafeExpressionError:
    where = f" (kolom {node.col_offset + 1})" if node is not None and hasattr(node, "col_offset") else ""
    return UnsafeExpressionError(f"Ekspresi tidak diizinkan{where}: {why} — {source!r} (expression refused: {english})")


@functools.lru_cache(maxsize=1024)
def _parse(source: str, mode: str) -> ast.AST:
    """The checked tree of ``source``; cached, as every completion evaluates the same few conditions.

    Callers never change the tree they get back.
    """
    if len(source) > _MAX_SOURCE_CHARS:
        raise _refuse(source[:80] + "…", None, f"lebih dari {_MAX_SOURCE_CHARS} karakter")
    try:
        tree = ast.parse(source.strip(), mode=mode)
    except SyntaxError as exc:
        raise UnsafeExpressionError(f"Ekspresi tidak dapat dibaca: {source!r} ({exc.msg})") from exc
    except (RecursionError, MemoryError) as exc:
        raise _refuse(source, None, "bersarang terlalu dalam") from exc
    if _depth(tree) > MAX_DEPTH:
        raise _refuse(source, None, f"bersarang lebih dari {MAX_DEPTH} tingkat")
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
    _fold(tree, source)
    return tree


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _is_constant(node: ast.AST) -> bool:
    return all(not isinstance(n, ast.Name) or n.id in _CONSTANT_NAMES for n in ast.walk(node))


def _fold(node: ast.AST, source: str) -> None:
    """Evaluate every maximal constant part under the bounds; refuse one certain to exceed them."""
    if isinstance(node, ast.expr) and _is_constant(node):
        try:
            _eval(node, {}, _Budget())
        except ExpressionLimitError as exc:
            raise _refuse(source, node, f"pasti melampaui batas: {exc}", "certain to exceed the bounds") from exc
        except (ArithmeticError, LookupError, TypeError, ValueError):
            pass  # fails only if evaluated (it may sit in a branch never taken): left to run time
        return
    for child in ast.iter_child_nodes(node):
        _fold(child, source)


def names_read(tree: ast.AST) -> set[str]:
    """Names of the variables an expression reads (``True``/``False``/``None`` left out)."""
    return {n.id for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in _CONSTANT_NAMES}


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
    not a silent ``False``. Raises :class:`UnsafeExpressionError` for unsafe text
    and :class:`ExpressionLimitError` past a bound (sizes, steps; see the module
    docstring).
    """
    return _eval(check_expression(source).body, variables, _Budget())


def execute(source: str, variables: MutableMapping[str, Any]) -> None:
    """Run a script, updating ``variables`` in place.

    Raises :class:`UnsafeExpressionError` for unsafe text and
    :class:`ExpressionLimitError` past a bound.
    """
    _exec_body(check_script(source).body, variables, _Budget())


class _Budget:
    """Steps left for one evaluation."""

    def __init__(self) -> None:
        self.left = MAX_STEPS

    def tick(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ExpressionLimitError(f"lebih dari {MAX_STEPS} langkah evaluasi (too many evaluation steps)")


def _bounded(value: Any) -> Any:
    """``value`` if it is within the size bounds; raise :class:`ExpressionLimitError` otherwise."""
    if isinstance(value, (*_SEQUENCES, set, frozenset, dict)) and len(value) > MAX_SIZE:
        raise ExpressionLimitError(
            f"nilai berukuran {len(value)} melebihi {MAX_SIZE} karakter/elemen (value too large)")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExpressionLimitError(f"bilangan melebihi {MAX_INT_BITS} bit (integer too large)")
    return value


def _binop(op: ast.operator, left: Any, right: Any) -> Any:
    """Apply ``op``, refusing before building a result past the bounds."""
    if isinstance(op, ast.Mult):
        seq, count = (left, right) if isinstance(left, _SEQUENCES) else (right, left)
        if isinstance(seq, _SEQUENCES) and isinstance(count, int) and len(seq) * max(count, 0) > MAX_SIZE:
            raise ExpressionLimitError(
                f"hasil perkalian berukuran {len(seq) * count} melebihi {MAX_SIZE} (result too large)")
        if isinstance(left, int) and isinstance(right, int) and \
                left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise ExpressionLimitError(f"hasil perkalian melebihi {MAX_INT_BITS} bit (integer too large)")
    if isinstance(op, ast.Add) and isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES) \
            and len(left) + len(right) > MAX_SIZE:
        raise ExpressionLimitError(f"hasil penjumlahan melebihi {MAX_SIZE} karakter/elemen (result too large)")
    if isinstance(op, ast.Mod) and isinstance(left, (str, bytes)):
        raise ExpressionLimitError("format teks dengan % tidak diizinkan (string formatting is not allowed)")
    return _bounded(_BINOPS[type(op)](left, right))


def _exec_body(body: list[ast.stmt], env: MutableMapping[str, Any], budget: _Budget) -> None:
    for stmt in body:
        budget.tick()
        if isinstance(stmt, ast.Assign):
            value = _eval(stmt.value, env, budget)
            for target in stmt.targets:
                assert isinstance(target, ast.Name)  # refused otherwise by _parse
                env[target.id] = value
        elif isinstance(stmt, ast.AugAssign):
            assert isinstance(stmt.target, ast.Name)  # refused otherwise by _parse
            name = stmt.target.id
            if name not in env:
                raise NameError(f"variabel {name!r} belum ada (name {name!r} is not defined)")
            env[name] = _binop(stmt.op, env[name], _eval(stmt.value, env, budget))
        elif isinstance(stmt, ast.If):
            _exec_body(stmt.body if _eval(stmt.test, env, budget) else stmt.orelse, env, budget)
        elif isinstance(stmt, ast.Expr):
            _eval(stmt.value, env, budget)


def _eval(node: ast.AST, env: Mapping[str, Any], budget: _Budget) -> Any:
    budget.tick()
    if isinstance(node, ast.Constant):
        return _bounded(node.value)
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        if node.id in _CONSTANT_NAMES:
            return _CONSTANT_NAMES[node.id]
        raise NameError(f"variabel {node.id!r} belum ada (name {node.id!r} is not defined)")
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            result: Any = True
            for value in node.values:
                result = _eval(value, env, budget)
                if not result:
                    return result
            return result
        result = False
        for value in node.values:
            result = _eval(value, env, budget)
            if result:
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        return _bounded(_UNARY[type(node.op)](_eval(node.operand, env, budget)))
    if isinstance(node, ast.BinOp):
        return _binop(node.op, _eval(node.left, env, budget), _eval(node.right, env, budget))
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env, budget)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, env, budget)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, env, budget) if _eval(node.test, env, budget) else _eval(node.orelse, env, budget)
    if isinstance(node, ast.List):
        return [_eval(e, env, budget) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_eval(e, env, budget) for e in node.elts)
    if isinstance(node, ast.Set):
        return {_eval(e, env, budget) for e in node.elts}
    if isinstance(node, ast.Subscript):
        return _eval(node.value, env, budget)[node.slice.value]  # type: ignore[attr-defined]
    raise UnsafeExpressionError(f"Ekspresi tidak didukung: {type(node).__name__}")
