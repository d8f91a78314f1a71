"""``alur worker``: settings it reads, ``--once`` as a real subprocess, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.settings import load_settings

ALUR = Path(sys.executable).parent / "alur"
ROOT = Path(__file__).resolve().parents[1]


def test_smtp_and_worker_settings_are_read_and_checked() -> None:
    settings = load_settings({"ALUR_SMTP_HOST": "mail.kab-contoh.go.id", "ALUR_SMTP_TLS": "SSL",
                              "ALUR_SMTP_SENDER": "alur@kab-contoh.go.id", "ALUR_BASE_URL": "https://alur.go.id/",
                              "ALUR_WORKER_LEASE_SECONDS": "30"})
    assert (settings.mail.host, settings.mail.port, settings.mail.tls) == ("mail.kab-contoh.go.id", 465, "ssl")
    assert settings.base_url == "https://alur.go.id" and settings.worker_lease_seconds == 30
    assert load_settings({}).mail.host is None  # no host: no e-mail
    for bad in ({"ALUR_SMTP_TLS": "maybe"}, {"ALUR_SMTP_PORT": "0"}, {"ALUR_SMTP_PORT": "25x"},
                {"ALUR_WORKER_LEASE_SECONDS": "-1"}, {"ALUR_WORKER_POLL_SECONDS": "soon"}):
        with pytest.raises(ValueError):
            load_settings(bad)


def test_worker_once_then_a_clean_stop(tmp_path: Path) -> None:
    env = {**os.environ, "ALUR_DATABASE_URL": f"sqlite:///{tmp_path / 'alur.sqlite3'}",
           "ALUR_WORKER_POLL_SECONDS": "0.2"}
    subprocess.run([str(ALUR), "init"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    subprocess.run([str(ALUR), "start", "sop_pelaporan_kinerja_kecamatan", "--unit", "kecamatan-contoh",
                    "--user", "tim1.kecamatan", "--title", "Uji worker"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    once = subprocess.run([str(ALUR), "worker", "--once"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert once.returncode == 0 and "job dijalankan" in once.stdout
    process = subprocess.Popen([str(ALUR), "worker", "--name", "uji"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        assert process.stderr is not None
        while "started" not in process.stderr.readline():
            assert time.monotonic() < deadline and process.poll() is None
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and "stopped" in err
