"""Gunicorn settings for Alur in production, from the environment.

| variable | default | meaning |
|---|---|---|
| ``ALUR_BIND`` | ``127.0.0.1:8000`` | address to listen on (behind an HTTPS reverse proxy) |
| ``ALUR_WORKERS`` | ``2 × cores + 1`` | worker processes |
"""

import multiprocessing
import os

bind = os.environ.get("ALUR_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("ALUR_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = 60
accesslog = "-"
forwarded_allow_ips = os.environ.get("ALUR_FORWARDED_ALLOW_IPS", "127.0.0.1")
