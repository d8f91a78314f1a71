"""The ``alur`` console script, run as a real subprocess against its own SQLite file.

Each command is a separate process (one transaction each), as an operator would
run them: set up, list processes, start an SOP, work the inbox through a review
loop, read the history, and the demo run over all 18 SOPs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage.demo import DEMO_UNITS

ALUR = Path(sys.executable).parent / "alur"
PROCESS_ID = "sop_pelaporan_kinerja_kecamatan"
TITLE = "Laporan Kinerja Triwulan III 2026"


def _holders(unit_code: str, role_name: str) -> list[str]:
    (unit,) = [u for u in DEMO_UNITS if u.code == unit_code]
    (role,) = [r for r in unit.roles if r.name == role_name]
    return [u.username for u in role.users]


# sop_pelaporan_kinerja_kecamatan: Step_01 Tim (the standing Tim role), Step_02 Kasubag Evapor,
# Step_03 Staf, Step_04 Kasubag Evapor review ("Tidak" -> Step_03), Step_05 Tim review.
TIM = _holders("kecamatan-contoh", "Tim")
KASUBAG_EVAPOR = _holders("kecamatan-contoh", "Kasubag Evapor")[0]
STAF = _holders("kecamatan-contoh", "Staf")[0]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def alur(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``alur(*args)`` runs the console script on a database set up once by ``alur init``."""
    directory = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "ALUR_DATABASE_URL": f"sqlite:///{directory / 'cli.sqlite3'}"}
    env.pop("ALUR_BPMN_DIR", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ALUR), *args], env=env, cwd=directory, capture_output=True, text=True,
                              timeout=120)

    init = run("init")
    assert init.returncode == 0, init.stderr
    assert "18 proses di-deploy (18 versi baru)" in init.stdout
    assert "Data demo dimuat" in init.stdout
    return run


def _json(result: subprocess.CompletedProcess[str]) -> object:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_init_twice_deploys_nothing_new(alur: Run) -> None:
    again = alur("init")
    assert again.returncode == 0, again.stderr
    assert "18 proses di-deploy (0 versi baru)" in again.stdout


def test_processes_lists_the_18_sops(alur: Run) -> None:
    rows = _json(alur("processes", "--json"))
    bpmn = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "bpmn").glob("*.bpmn"))
    assert len(rows) == 18
    assert [r["process_id"] for r in rows] == bpmn
    row = next(r for r in rows if r["process_id"] == PROCESS_ID)
    assert (row["version"], row["unit_kind"], row["steps"]) == (1, "kecamatan", 9)
    assert row["lanes"] == ["Tim", "Kasubag Evapor", "Staf", "Sekretaris", "Camat", "Kasubag Umum"]


def _complete(alur: Run, task_id: str, user: str, *flags: str) -> dict:
    return _json(alur("complete", task_id, "--user", user, *flags, "--json"))


def test_start_inbox_complete_review_loop_and_history(alur: Run) -> None:
    started = _json(alur("start", PROCESS_ID, "--unit", "kecamatan-contoh", "--user", TIM[0],
                         "--title", TITLE, "--json"))
    assert (started["title"], started["status"], started["unit_code"]) == (TITLE, "running", "kecamatan-contoh")
    (step_01,) = started["ready_tasks"]
    assert (step_01["step_id"], step_01["lane"], step_01["waktu"]) == ("Step_01", "Tim", "P1D")

    inbox = _json(alur("inbox", TIM[1], "--json"))
    assert [(t["id"], t["instance_title"], t["step_id"]) for t in inbox] == [(step_01["id"], TITLE, "Step_01")]
    assert _json(alur("inbox", STAF, "--json")) == []

    step_02 = _complete(alur, step_01["id"], TIM[1])["ready_tasks"][0]
    assert (step_02["step_id"], step_02["lane"]) == ("Step_02", "Kasubag Evapor")
    step_03 = _complete(alur, step_02["id"], KASUBAG_EVAPOR)["ready_tasks"][0]
    assert (step_03["step_id"], step_03["lane"]) == ("Step_03", "Staf")
    step_04 = _complete(alur, step_03["id"], STAF)["ready_tasks"][0]
    assert (step_04["step_id"], step_04["is_review"]) == ("Step_04", True)

    history_before = _json(alur("history", str(started["id"]), "--json"))
    refused = alur("complete", step_04["id"], "--user", KASUBAG_EVAPOR, "--tidak", "--json")
    assert refused.returncode == 1
    assert refused.stderr.startswith("Galat: ")
    assert "Catatan wajib diisi" in refused.stderr
    assert refused.stdout == ""
    assert _json(alur("history", str(started["id"]), "--json")) == history_before
    assert [t["id"] for t in _json(alur("inbox", KASUBAG_EVAPOR, "--json"))] == [step_04["id"]]

    rework = _complete(alur, step_04["id"], KASUBAG_EVAPOR, "--tidak", "--catatan", "Angka capaian IKU belum sesuai")
    (step_03_again,) = rework["ready_tasks"]
    assert (step_03_again["step_id"], step_03_again["iteration"]) == ("Step_03", 2)
    step_04_again = _complete(alur, step_03_again["id"], STAF)["ready_tasks"][0]
    assert (step_04_again["step_id"], step_04_again["iteration"]) == ("Step_04", 2)
    step_05 = _complete(alur, step_04_again["id"], KASUBAG_EVAPOR, "--setuju")["ready_tasks"][0]
    assert (step_05["step_id"], step_05["lane"], step_05["is_review"]) == ("Step_05", "Tim", True)

    history = _json(alur("history", str(started["id"]), "--json"))
    assert [e["kind"] for e in history] == ["instance_started"] + ["task_ready", "task_completed"] * 6 + [
        "task_ready"]
    completed = [(e["step_id"], e["actor"], e["keputusan"], e["catatan"]) for e in history
                 if e["kind"] == "task_completed"]
    assert completed == [
        ("Step_01", TIM[1], None, None),
        ("Step_02", KASUBAG_EVAPOR, None, None),
        ("Step_03", STAF, None, None),
        ("Step_04", KASUBAG_EVAPOR, "tidak", "Angka capaian IKU belum sesuai"),
        ("Step_03", STAF, None, None),
        ("Step_04", KASUBAG_EVAPOR, "setuju", None),
    ]
    assert history[0]["actor"] == TIM[0] and history[0]["data"]["title"] == TITLE

    text = alur("history", str(started["id"]))
    assert text.returncode == 0
    assert "[tidak]" in text.stdout and "«Angka capaian IKU belum sesuai»" in text.stdout


@pytest.mark.parametrize("args", [
    ("complete", "00000000-0000-0000-0000-000000000000", "--user", "staf1.kecamatan"),
    ("history", "999999"),
    ("inbox", "tidak.ada"),
    ("start", "sop_tidak_ada", "--unit", "kecamatan-contoh", "--user", "camat.contoh", "--title", "Uji"),
], ids=["tugas-tak-dikenal", "instans-tak-dikenal", "pengguna-tak-dikenal", "sop-tak-dikenal"])
def test_unknown_ids_exit_1_with_a_clear_message(alur: Run, args: tuple[str, ...]) -> None:
    result = alur(*args)
    assert result.returncode == 1
    assert result.stderr.startswith("Galat: ")
    assert "tidak ditemukan" in result.stderr and "not found" in result.stderr
    assert args[1] in result.stderr
    assert "Traceback" not in result.stderr


def test_a_user_without_the_lane_is_refused(alur: Run) -> None:
    started = _json(alur("start", PROCESS_ID, "--unit", "kecamatan-contoh", "--user", TIM[0], "--title", TITLE,
                         "--json"))
    (task,) = started["ready_tasks"]
    result = alur("complete", task["id"], "--user", STAF)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("Galat: ") and STAF in result.stderr
    assert task["id"] in [t["id"] for t in _json(alur("inbox", TIM[0], "--json"))]


def test_demo_runs_every_sop_to_its_end(alur: Run) -> None:
    result = alur("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "18/18 SOP selesai."
    assert sum(line.startswith("OK ") for line in lines) == 18
    assert not any(line.startswith("GAGAL") for line in lines)


def test_times_are_printed_in_the_units_time_zone(alur: Run) -> None:
    """kecamatan-contoh is in WIT (UTC+9): the text output shows its local time, as the web does."""
    started = _json(alur("start", PROCESS_ID, "--unit", "kecamatan-contoh", "--user", TIM[0], "--title", TITLE,
                         "--json"))
    (task,) = started["ready_tasks"]
    due = datetime.fromisoformat(task["due_at"]).astimezone(ZoneInfo("Asia/Jayapura"))
    inbox = alur("inbox", TIM[0])
    assert inbox.returncode == 0, inbox.stderr
    assert f"tenggat {due:%Y-%m-%d %H:%M} WIT" in inbox.stdout
    assert "UTC" not in inbox.stdout
    history = alur("history", str(started["id"]))
    assert history.returncode == 0, history.stderr
    assert " WIT  instance_started" in history.stdout and "UTC" not in history.stdout


def test_access_grants_can_be_listed_given_and_taken(alur: Run) -> None:
    listed = _json(alur("akses", "daftar", "--jenis", "auditor", "--json"))
    assert {(r["username"], r["unit_code"]) for r in listed} == {
        ("auditor.inspektorat", None), ("evaluator.kecamatan", "kecamatan-contoh")}
    given = alur("akses", "beri", STAF, "auditor", "--unit", "kecamatan-contoh")
    assert given.returncode == 0 and "diberikan" in given.stdout
    assert (STAF, "kecamatan-contoh") in {(r["username"], r["unit_code"])
                                          for r in _json(alur("akses", "daftar", "--json"))}
    assert alur("akses", "cabut", STAF, "auditor", "--unit", "kecamatan-contoh").returncode == 0
    again = alur("akses", "cabut", STAF, "auditor", "--unit", "kecamatan-contoh")
    assert again.returncode == 1 and "tidak memegang" in again.stderr
    unknown = alur("akses", "beri", "tidak.ada", "auditor")
    assert unknown.returncode == 1 and unknown.stderr.startswith("Galat: ")


SEEDS = Path(__file__).parent / "sop_import" / "data" / "seeds"


def test_impor_text_with_several_sops_writes_drafts_that_deploy(alur: Run, tmp_path: Path) -> None:
    out = tmp_path / "draf"
    result = alur("impor", str(SEEDS / "004_c33272c829c45490.txt"), "--keluar", str(out))
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.bpmn"))
    assert len(files) == 6
    assert "Draf sop_perencanaan_kinerja ditulis ke" in result.stdout
    assert "Laporan impor: 004_c33272c829c45490.txt (teks)" in result.stdout
    assert "perlu dikonfirmasi" in result.stdout
    deployed = alur("deploy", str(out))
    assert deployed.returncode == 0, deployed.stderr
    assert "sop_perencanaan_kinerja v1 (baru)" in deployed.stdout


def test_impor_pdf_with_report_file_and_json(alur: Run, tmp_path: Path) -> None:
    from tests.sop_import.diagrams import BPMN_DIR, deployed_names, read_diagram
    from tests.sop_import.pdfs import to_pdf

    pdf = tmp_path / "lakip.pdf"
    pdf.write_bytes(to_pdf(read_diagram(BPMN_DIR / "sop_penyusunan_lakip_dinas.bpmn"), deployed_names()))
    target, report = tmp_path / "lakip.bpmn", tmp_path / "laporan.txt"
    result = alur("impor", str(pdf), "--keluar", str(target), "--laporan", str(report), "--id", "sop_lakip_impor")
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert b'<bpmn:process id="sop_lakip_impor"' in target.read_bytes()
    text = report.read_text(encoding="utf-8")
    assert "Laporan impor: lakip.pdf (pdf, 2 halaman)" in text and "sop_pengadministrasian_umum" in text
    as_json = alur("impor", str(pdf), "--keluar", str(tmp_path / "lagi.bpmn"), "--json")
    (entry,) = _json(as_json)
    assert entry["process_id"].startswith("sop_penyusunan_laporan_akuntabilitas_kinerja")
    assert entry["report"]["sop"]["lanes"][0] == "Kepala Dinas"


def test_impor_refuses_bad_input_in_indonesian(alur: Run, tmp_path: Path) -> None:
    bad = tmp_path / "rusak.pdf"
    bad.write_bytes(b"%PDF-1.4\nbukan pdf")
    result = alur("impor", str(bad), "--keluar", str(tmp_path / "x.bpmn"))
    assert result.returncode == 1
    assert result.stderr.startswith("Galat: PDF rusak")
    assert not (tmp_path / "x.bpmn").exists()
def test_dokumen_writes_the_sop_ap_pdf_and_html(alur: Run, tmp_path: Path) -> None:
    pdf, html = tmp_path / "lakip.pdf", tmp_path / "lakip.html"
    result = alur("dokumen", "sop_penyusunan_lakip_dinas", "--versi", "1", "--unit", "dinas-kominfo",
                  "--pdf", str(pdf), "--html", str(html), "--kertas", "f4", "--instansi", "Pemerintah Kabupaten Contoh")
    assert result.returncode == 0, result.stderr
    assert f"(sop_penyusunan_lakip_dinas v1), 12 langkah, 2 halaman F4 -> {pdf}" in result.stdout
    assert pdf.read_bytes().startswith(b"%PDF-")
    page = html.read_text(encoding="utf-8")
    assert "Pemerintah Kabupaten Contoh" in page and "Dinas Komunikasi dan Informatika Kabupaten Contoh" in page
    assert "size: 330.0mm 215.0mm" in page


def test_dokumen_without_a_file_writes_the_pdf_in_the_working_directory(alur: Run) -> None:
    result = alur("dokumen", "sop_fgd")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("-> sop_fgd-v1.pdf")


@pytest.mark.parametrize("args, status, message", [
    (("sop_tidak_ada",), 1, "Galat: Definisi proses 'sop_tidak_ada' tidak ditemukan"),
    (("sop_fgd", "--versi", "7"), 1, "Galat: Definisi proses 'sop_fgd versi 7' tidak ditemukan"),
    (("sop_fgd", "--unit", "unit-tidak-ada"), 1, "Galat: Unit kerja 'unit-tidak-ada' tidak ditemukan"),
    (("sop_fgd", "--pdf", "/folder-tidak-ada/x.pdf"), 1, "Galat: tidak dapat menulis /folder-tidak-ada/x.pdf"),
    (("sop_fgd", "--versi", "0"), 2, "--versi"),
    (("sop_fgd", "--kertas", "Letter"), 2, "--kertas"),
])
def test_dokumen_refuses_unknown_or_malformed_input(alur: Run, args: tuple[str, ...], status: int,
                                                    message: str) -> None:
    result = alur("dokumen", *args)
    assert result.returncode == status
    assert message in result.stderr and "Traceback" not in result.stderr


def test_deploy_of_templates_keeps_a_newer_studio_version_unless_forced(tmp_path: Path) -> None:
    from engine import drafts
    from engine.database import open_database
    from engine.settings import Settings
    from storage import definitions

    bpmn_dir = Path(__file__).resolve().parents[1] / "bpmn"
    url = f"sqlite:///{tmp_path / 'studio.sqlite3'}"
    database = open_database(Settings(database_url=url, bpmn_dir=bpmn_dir))
    database.initialize(bpmn_dir)
    with database.transaction() as session:
        xml = definitions.latest(session, PROCESS_ID).bpmn_xml.replace('name="SOP Pelaporan Kinerja"',
                                                                       'name="SOP Pelaporan Kinerja Kecamatan"', 1)
        draft = drafts.create_draft(session, process_id=PROCESS_ID, xml=xml, username="analis.kecamatan",
                                    base_version=1)
        drafts.deploy_draft(session, draft.id, revision=draft.revision, note="Nama", username="analis.kecamatan")
    database.dispose()
    templates = tmp_path / "bpmn"
    templates.mkdir()
    source = (bpmn_dir / f"{PROCESS_ID}.bpmn").read_text(encoding="utf-8")
    (templates / f"{PROCESS_ID}.bpmn").write_text(source.replace("Periksa laporan", "Periksa laporan kinerja", 1),
                                                 encoding="utf-8")
    env = {**os.environ, "ALUR_DATABASE_URL": url}

    def deploy(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ALUR), "deploy", str(templates), *args], env=env, capture_output=True, text=True,
                              timeout=120)

    kept = deploy()
    assert kept.returncode == 0, kept.stderr
    assert f"DIBIARKAN {PROCESS_ID}: versi 2 dari studio (analis.kecamatan)" in kept.stdout
    assert _json(deploy("--json"))["kept"][0]["version"] == 2
    forced = deploy("--paksa")
    assert forced.returncode == 0, forced.stderr
    assert f"{PROCESS_ID} v3 (baru)" in forced.stdout and "DIBIARKAN" not in forced.stdout


def test_organisasi_impor_dry_run_then_apply_then_nothing(alur: Run, tmp_path: Path) -> None:
    path = tmp_path / "pegawai.csv"
    path.write_text("NIP,Nama,Jabatan,Unit Kerja\n"
                    "196811201995031002,\"Drs. Hotman Simanjuntak, M.Si., Ak.\",Inspektur,inspektorat\n"
                    "197512122001122003,\"Rosmawati, S.E., M.Ak.\",Sekretaris,inspektorat\n"
                    "199611272020121002,\"Yogi Pratama, A.Md.\",Staf,inspektorat\n"
                    "199702032021032004,\"Ni Luh Putu Sari, S.Ak.\",Staf,inspektorat\n"
                    "199901012022031001,Andi Baru,Staff,inspektorat\n", encoding="utf-8")
    preview = alur("organisasi", "impor", str(path))
    assert preview.returncode == 0, preview.stderr
    assert "Pratinjau: 5 baris, 1 ditambah, 0 diubah, 1 dinonaktifkan, 0 masalah" in preview.stdout
    assert "+ 199901012022031001 Andi Baru: jabatan: Staf" in preview.stdout
    applied = _json(alur("organisasi", "impor", str(path), "--terapkan", "--json"))
    assert applied["applied"] is True and [c["nip"] for c in applied["added"]] == ["199901012022031001"]  # type: ignore[index]
    again = alur("organisasi", "impor", str(path))
    assert "0 ditambah, 0 diubah, 0 dinonaktifkan" in again.stdout
    refused = alur("organisasi", "impor", str(tmp_path / "tidak-ada.csv"))
    assert refused.returncode != 0
