"""Two gunicorn servers and two workers on one PostgreSQL under a bounded load (PostgreSQL only).

Drives ``scripts/loadtest.py`` for a few seconds with a handful of users, then
checks in the database: every job ran exactly once (each e-mail job sent one
message, no job retried or failed), every completion stored once, the ready
task rows match the engine's state, no running instance is stuck.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not os.environ.get("ALUR_TEST_POSTGRES_URL"),
                                reason="ALUR_TEST_POSTGRES_URL not set")


def _loadtest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("alur_loadtest", ROOT / "scripts" / "loadtest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_two_servers_two_workers_every_job_once_every_completion_once() -> None:
    loadtest = _loadtest()
    stats, report, _ = loadtest.run(os.environ["ALUR_TEST_POSTGRES_URL"], seconds=12, users=8, servers=2,
                                    web_workers=2, workers=2, kill_every=None)
    assert stats.errors == [] and not any(s >= 500 for s in stats.statuses)
    assert report.violations == []
    assert stats.completions > 0 and report.counts["completion_events"] == report.counts["completed_tasks"]
    assert report.counts["email_jobs"] > 0
    assert report.counts["smtp_messages"] == report.counts["smtp_distinct"] == report.counts["email_jobs"]
    assert report.counts["jobs_retried"] == 0 and "jobs_failed" not in report.counts
