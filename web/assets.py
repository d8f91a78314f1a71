"""The studio's bundled pages: what ``web/static/build/manifest.json`` says each page needs.

``scripts/build_web.mjs`` (run by ``scripts/bootstrap.sh``) bundles one JavaScript entry
per page (``web/js/pages/<page>.js``) into ``web/static/build/`` and writes the manifest
``{"<page>": {"js": "<file>", "css": ["<file>", ...]}}``; this module is all the Python
side knows of it. Templates call ``page_assets("modeler")``; a page whose bundle is
missing gets ``None`` and says that the studio is not built.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, url_for

__all__ = ["BUILD_DIR", "PageAssets", "init_app", "page_assets"]

logger = logging.getLogger(__name__)

BUILD_DIR = Path(__file__).resolve().parent / "static" / "build"
_KEY = "alur.assets"


@dataclass(frozen=True)
class PageAssets:
    """The built files of one page, as URLs: one script and its style sheets."""

    js: str
    css: tuple[str, ...]


def _read_manifest(path: Path) -> dict[str, dict[str, object]]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("studio pages are not built (%s: %s); run `bash scripts/bootstrap.sh --with-node`",
                       path, exc)
        return {}
    return manifest if isinstance(manifest, dict) else {}


def page_assets(page: str) -> PageAssets | None:
    """The script and style URLs of ``page`` (``web/js/pages/<page>.js``), or None if not built."""
    from flask import current_app

    entry = current_app.extensions[_KEY].get(page)
    if not isinstance(entry, dict) or not isinstance(entry.get("js"), str):
        return None
    css = entry.get("css") if isinstance(entry.get("css"), list) else []
    return PageAssets(
        js=url_for("static", filename=f"build/{entry['js']}"),
        css=tuple(url_for("static", filename=f"build/{name}") for name in css or () if isinstance(name, str)),
    )


def init_app(app: Flask, build_dir: Path = BUILD_DIR) -> None:
    """Read the manifest once and offer ``page_assets`` to templates."""
    app.extensions[_KEY] = _read_manifest(build_dir / "manifest.json")
    app.add_template_global(page_assets)
