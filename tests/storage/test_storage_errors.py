"""The exception tree of storage.errors."""

from __future__ import annotations

import pytest

from storage import errors


def test_deploy_error_names_file_line_and_element() -> None:
    error = errors.DeployError(
        "kondisi tidak aman", file="sop_fgd.bpmn", element_id="Flow_3", line=42
    )
    assert str(error) == "sop_fgd.bpmn:42 (Flow_3): kondisi tidak aman"
    assert (error.file, error.element_id, error.line) == ("sop_fgd.bpmn", "Flow_3", 42)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "rusak"),
        ({"file": "a.bpmn"}, "a.bpmn: rusak"),
        ({"element_id": "Step_07"}, "Step_07: rusak"),
        ({"line": 3}, "baris/line 3: rusak"),
        ({"line": 3, "element_id": "Step_07"}, "baris/line 3 (Step_07): rusak"),
    ],
)
def test_deploy_error_leaves_out_unknown_parts(kwargs: dict, expected: str) -> None:
    assert str(errors.DeployError("rusak", **kwargs)) == expected


def test_unsafe_expression_is_a_deploy_error() -> None:
    error = errors.UnsafeExpressionError("__import__ dilarang", file="x.bpmn", line=9)
    assert isinstance(error, errors.DeployError)
    assert str(error) == "x.bpmn:9: __import__ dilarang"


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (errors.DeployError, errors.AlurError),
        (errors.ProcessNotFound, errors.NotFoundError),
        (errors.InstanceNotFound, errors.NotFoundError),
        (errors.TaskNotFound, errors.NotFoundError),
        (errors.UserNotFound, errors.NotFoundError),
        (errors.UnitNotFound, errors.NotFoundError),
        (errors.NotFoundError, errors.AlurError),
        (errors.TaskAlreadyCompleted, errors.ConflictError),
        (errors.StaleInstanceError, errors.ConflictError),
        (errors.ConflictError, errors.AlurError),
        (errors.PermissionDeniedError, errors.AlurError),
        (errors.InvalidTaskDataError, errors.AlurError),
        (errors.CalendarError, errors.AlurError),
    ],
)
def test_tree(child: type, parent: type) -> None:
    assert issubclass(child, parent)


def test_task_already_completed_message_is_bilingual() -> None:
    error = errors.TaskAlreadyCompleted("abc")
    assert str(error) == "Tugas sudah diselesaikan oleh pengguna lain / task already completed"
    assert error.task_id == "abc"


def test_not_found_names_the_key() -> None:
    error = errors.UserNotFound("camat.contoh")
    assert error.key == "camat.contoh"
    assert str(error) == "Pengguna 'camat.contoh' tidak ditemukan / user not found"


def test_stale_instance_names_instance_and_version() -> None:
    error = errors.StaleInstanceError(7, 3)
    assert (error.instance_id, error.expected_version) == (7, 3)
    assert "7" in str(error) and "versi 3" in str(error)
