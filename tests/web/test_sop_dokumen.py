"""The SOP-AP document routes: HTML and PDF of a deployed version, reachable from the instance page."""

from __future__ import annotations

import re
from io import BytesIO

import pdfplumber
import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.database import Database
from engine.deploy import deploy_sources
from tests.web.conftest import BPMN_DIR

SOP = "sop_penyusunan_lakip_dinas"


def test_html_document_of_the_latest_version(client: FlaskClient, auth) -> None:
    auth.login("kadin.kominfo")
    response = client.get(f"/sop/{SOP}/dokumen")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "SOP Penyusunan Laporan Akuntabilitas Kinerja Instansi Pemerintah (LAKIP)" in page
    assert "Dinas Komunikasi dan Informatika Kabupaten Contoh" in page  # the user's home unit
    assert "Memberikan tugas dan arahan terkait penyusunan Laporan Kinerja OPD" in page
    assert page.count('<th colspan="3">Mutu Baku</th>') == 2  # the header on each of the two pages
    assert "SOP Focus Group Discussion" in page or "SOP FGD" in page
    assert page.count("<svg") == 2 and "<polygon" in page and 'rx="8.0"' in page
    # Inline CSS only under this response's nonce; no script at all.
    nonce = re.search(r'<style nonce="([^"]+)">', page)
    assert nonce and f"'nonce-{nonce.group(1)}'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"] and "<script" not in page
    assert 'style="' not in page


def test_pdf_document_of_a_version_for_a_unit(client: FlaskClient, auth, app: Flask) -> None:
    app.config["ALUR_INSTANSI"] = "Pemerintah Kabupaten Contoh"
    auth.login("camat.contoh")
    response = client.get("/sop/sop_pelaporan_kinerja_kecamatan/dokumen.pdf?versi=1&unit=kecamatan-contoh&kertas=f4")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'filename="sop_pelaporan_kinerja_kecamatan-v1.pdf"' in response.headers["Content-Disposition"]
    with pdfplumber.open(BytesIO(response.data)) as pdf:
        first = pdf.pages[0].extract_text()
        assert "PEMERINTAH KABUPATEN CONTOH" in first and "KECAMATAN CONTOH" in first
        assert round(float(pdf.pages[0].width) / 72 * 25.4) == 330


def test_each_version_has_its_own_document(client: FlaskClient, auth, database: Database) -> None:
    source = (BPMN_DIR / "sop_fgd.bpmn").read_bytes().replace(b'name="SOP FGD" isExecutable', b'name="SOP FGD Revisi" isExecutable', 1)
    with database.transaction() as session:
        (deployed,) = deploy_sources(session, {"sop_fgd.bpmn": source})
    assert deployed.version == 2
    auth.login("kadin.kominfo")
    assert "SOP FGD Revisi" in client.get("/sop/sop_fgd/dokumen").get_data(as_text=True)
    old = client.get("/sop/sop_fgd/dokumen?versi=1").get_data(as_text=True)
    assert "SOP FGD Revisi" not in old and "SOP FGD" in old


@pytest.mark.parametrize("url, status", [
    ("/sop/sop_tidak_ada/dokumen", 404),
    ("/sop/sop_tidak_ada/dokumen.pdf", 404),
    (f"/sop/{SOP}/dokumen?versi=9", 404),
    (f"/sop/{SOP}/dokumen.pdf?versi=9", 404),
    (f"/sop/{SOP}/dokumen?unit=unit-tidak-ada", 404),
    (f"/sop/{SOP}/dokumen?versi=satu", 400),
    (f"/sop/{SOP}/dokumen?versi=-1", 400),
    (f"/sop/{SOP}/dokumen?versi=99999999999999999999", 400),
    (f"/sop/{SOP}/dokumen.pdf?kertas=Letter", 400),
])
def test_unknown_or_malformed_requests(client: FlaskClient, auth, url: str, status: int) -> None:
    auth.login("kadin.kominfo")
    response = client.get(url)
    assert response.status_code == status, url
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", [f"/sop/{SOP}/dokumen", f"/sop/{SOP}/dokumen.pdf"])
def test_login_required(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/masuk")


def test_instance_page_links_to_the_document_of_its_version(client: FlaskClient, auth, start) -> None:
    view = start("sop_pelaporan_kinerja_kecamatan", "kecamatan-contoh")
    auth.login("tim1.kecamatan")
    page = client.get(f"/proses/{view.id}").get_data(as_text=True)
    link = re.search(r'id="sop-document" href="([^"]+)"', page)
    assert link, "no link to the SOP document"
    url = link.group(1).replace("&amp;", "&")
    assert url.startswith("/sop/sop_pelaporan_kinerja_kecamatan/dokumen?") and "versi=1" in url
    assert "unit=kecamatan-contoh" in url
    assert client.get(url).status_code == 200
