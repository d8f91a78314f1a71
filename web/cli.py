"""The ``alur`` command line: set up, deploy, start SOPs, work an inbox, read history.

Every command is one transaction. Listings take ``--json`` for machine-readable
output. Errors Alur raises on purpose are printed as ``Galat: ...`` on stderr with
exit status 1; exit status 2 is a usage error (click's).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from engine import access, audit, catalog, demo, instances, replay, riwayat
from engine.database import Database, open_database
from engine.settings import load_settings
from engine.templates import KeptVersion, deploy_templates
from engine.views import InstanceView
from storage.errors import AlurError

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def _database() -> Iterator[Database]:
    database = open_database(load_settings())
    try:
        yield database
    finally:
        database.dispose()


def _emit(as_json: bool, payload: Any, lines: Callable[[], Iterable[str]]) -> None:
    """Print ``payload`` as JSON with ``--json``, else the text ``lines`` (built only then)."""
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        for line in lines():
            click.echo(line)


def _json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Keluaran JSON.")(func)


_ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def _unit_zones() -> dict[str, str]:
    """``{unit code: IANA zone}``, read in its own short transaction (the CLI shows local times)."""
    from web.accounts import unit_timezones

    with _database() as database, database.transaction() as session:
        return unit_timezones(session)


def _fmt(moment: datetime | None, zone: str) -> str:
    """``moment`` (aware UTC) in the unit's zone: "2026-11-25 16:00 WITA"; "-" for None."""
    if moment is None:
        return "-"
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {_ZONE_NAMES.get(zone) or local.tzname()}"


class _AlurGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AlurError as exc:
            click.echo(f"Galat: {exc}", err=True)
            sys.exit(1)


@click.group(cls=_AlurGroup)
def main() -> None:
    """Alur — menjalankan SOP SAKIP sebagai alur kerja BPMN."""


_FORCE_HELP = "Timpa juga SOP yang versi terbarunya dibuat di studio (--force)."


def _kept_lines(kept: Iterable[KeptVersion]) -> Iterator[str]:
    for k in kept:
        yield (f"DIBIARKAN {k.process_id}: versi {k.version} dari studio ({k.deployed_by}) berbeda dari "
               f"{k.filename}; pakai --paksa untuk menimpanya")


@main.command()
@click.option("--no-demo", is_flag=True, help="Jangan muat data demo.")
@click.option("--paksa", "--force", "force", is_flag=True, help=_FORCE_HELP)
def init(no_demo: bool, force: bool) -> None:
    """Buat/migrasikan basis data, deploy bpmn/, muat data demo."""
    settings = load_settings()
    from web.accounts import initialize  # Flask-Login and argon2 only for this command

    with _database() as database:
        result = initialize(database, settings.bpmn_dir, demo=not no_demo, force=force)
    created = sum(1 for d in result.deployed if d.created)
    click.echo(f"Basis data: {settings.database_url}")
    click.echo(f"{len(result.deployed)} proses di-deploy ({created} versi baru) dari {settings.bpmn_dir}")
    for line in _kept_lines(result.kept):
        click.echo(line)
    if not no_demo:
        click.echo("Data demo dimuat: 3 unit kerja dengan pegawai untuk setiap peran (kata sandi demo: alur-demo).")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--paksa", "--force", "force", is_flag=True, help=_FORCE_HELP)
@_json_option
def deploy(paths: tuple[Path, ...], force: bool, as_json: bool) -> None:
    """Deploy berkas .bpmn (atau folder); SOP yang versi terbarunya dari studio dibiarkan kecuali --paksa."""
    files: dict[str, bytes] = {}
    for path in paths or (load_settings().bpmn_dir,):
        for file in sorted(path.glob("*.bpmn")) if path.is_dir() else [path]:
            files[file.name] = file.read_bytes()
    with _database() as database, database.transaction() as session:
        result = deploy_templates(session, files, force=force)
    _emit(as_json, {"deployed": [d.__dict__ for d in result.deployed], "kept": [k.__dict__ for k in result.kept]},
          lambda: [*(f"{d.process_id} v{d.version} {'(baru)' if d.created else '(tidak berubah)'}"
                     for d in result.deployed), *_kept_lines(result.kept)])


@main.command()
@_json_option
def processes(as_json: bool) -> None:
    """Daftar SOP yang sudah di-deploy (versi terbaru)."""
    with _database() as database, database.transaction() as session:
        rows = [{"process_id": d.process_id, "name": d.name, "version": d.version,
                 "unit_kind": d.meta.unit_kind, "steps": len(d.meta.steps),
                 "lanes": [lane.name for lane in d.meta.lanes.values()]}
                for d in catalog.list_latest(session)]
    _emit(as_json, rows, lambda: (
        f"{r['process_id']:<42} v{r['version']:<3} {r['unit_kind']:<10} {r['name']}" for r in rows))


@main.command()
@click.argument("process_id")
@click.option("--unit", "unit_code", required=True, help="Kode unit kerja, mis. kecamatan-contoh.")
@click.option("--user", "username", required=True, help="Pegawai yang memulai.")
@click.option("--title", required=True, help='Perihal, mis. "Laporan Kinerja Triwulan III 2026".')
@click.option("--nomor-surat", default=None, help="Nomor surat masuk (bila SOP berawal dari surat).")
@click.option("--tanggal-surat", default=None, help="Tanggal surat masuk (YYYY-MM-DD).")
@_json_option
def start(process_id: str, unit_code: str, username: str, title: str, nomor_surat: str | None,
          tanggal_surat: str | None, as_json: bool) -> None:
    """Mulai SOP PROCESS_ID di sebuah unit kerja."""
    letter = {k: v for k, v in {"nomor_surat": nomor_surat, "tanggal_surat": tanggal_surat}.items() if v}
    with _database() as database, database.transaction() as session:
        view = instances.start_instance(session, process_id=process_id, unit_code=unit_code, title=title,
                                        username=username, input_data=letter)
    _emit(as_json, view.to_json(), lambda: [
        f"Instans {view.id} dimulai: {view.process_name} — {view.title}", *_ready_lines(view)])


@main.command()
@click.argument("username")
@click.option("--sop", "process_id", default=None, help="Saring menurut SOP (process id).")
@_json_option
def inbox(username: str, process_id: str | None, as_json: bool) -> None:
    """Tugas yang siap dikerjakan USERNAME, tenggat terdekat dulu."""
    with _database() as database, database.transaction() as session:
        views = instances.inbox(session, username, process_id=process_id)
    def lines() -> Iterator[str]:
        zones = _unit_zones()
        yield f"{len(views)} tugas untuk {username}"
        for v in views:
            yield (f"{v.id}  {v.process_name} / {v.step_name} [{v.lane}]  «{v.instance_title}»  "
                   f"tenggat {_fmt(v.due_at, zones[v.unit_code])}{'  (pemeriksaan)' if v.is_review else ''}")

    _emit(as_json, [v.to_json() for v in views], lines)


@main.command()
@click.argument("task_id")
@click.option("--user", "username", required=True)
@click.option("--setuju", "keputusan", flag_value="setuju", default=None, help="Keputusan pemeriksaan: setuju.")
@click.option("--tidak", "keputusan", flag_value="tidak", help="Keputusan pemeriksaan: tidak (catatan wajib).")
@click.option("--catatan", default=None)
@click.option("--tim", default=None, help="Anggota tim (username dipisah koma) pada langkah membentuk tim.")
@_json_option
def complete(task_id: str, username: str, keputusan: str | None, catatan: str | None, tim: str | None,
             as_json: bool) -> None:
    """Selesaikan tugas TASK_ID."""
    team = [n.strip() for n in tim.split(",") if n.strip()] if tim else None
    with _database() as database, database.transaction() as session:
        view = instances.complete_task(session, task_id, username=username, keputusan=keputusan,
                                       catatan=catatan, team=team)
    _emit(as_json, view.to_json(), lambda: [
        f"Tugas selesai. Instans {view.id}: {view.status}", *_ready_lines(view)])


@main.command()
@click.argument("instance_id", type=int)
@_json_option
def history(instance_id: int, as_json: bool) -> None:
    """Riwayat (jejak audit) sebuah instans."""
    with _database() as database, database.transaction() as session:
        entries = instances.history_of(session, instance_id)
        unit_code = instances.get_instance(session, instance_id).unit_code

    def lines() -> Iterator[str]:
        zone = _unit_zones()[unit_code]
        for e in entries:
            actor = (e.actor or "-") + (f" selaku {acting}" if (acting := audit.acting_label(e.data)) else "")
            yield (f"{_fmt(e.occurred_at, zone)}  {e.kind:<26} {actor:<24} "
                   f"{e.step_name or e.process_id or ''}"
                   + (f"  [{e.keputusan}]" if e.keputusan else "") + (f"  «{e.catatan}»" if e.catatan else ""))

    _emit(as_json, [e.to_json() for e in entries], lines)


def _ready_lines(view: InstanceView) -> Iterator[str]:
    """One line per ready task of ``view``, due time in the unit's zone."""
    zone = _unit_zones()[view.unit_code]
    for t in view.ready_tasks:
        yield f"  siap: {t.id}  {t.step_name} [{t.lane}] tenggat {_fmt(t.due_at, zone)}"


@main.group()
def akses() -> None:
    """Hak akses selain peran Pelaksana: administrator, analis_proses, auditor."""


_KIND = click.Choice(list(access.ACCESS_KINDS))
_UNIT_OPTION = click.option("--unit", "unit_code", default=None,
                            help="Kode unit kerja yang dicakup; tanpa --unit: semua unit.")


@akses.command("daftar")
@click.option("--jenis", "kind", type=_KIND, default=None, help="Hanya hak akses jenis ini.")
@_json_option
def akses_daftar(kind: str | None, as_json: bool) -> None:
    """Daftar hak akses yang diberikan."""
    with _database() as database, database.transaction() as session:
        rows = access.holders(session, kind)
    _emit(as_json, [{"username": u, "kind": k, "unit_code": c} for u, k, c in rows],
          lambda: (f"{u:<28} {access.describe([(k, c)])}" for u, k, c in rows))


@akses.command("beri")
@click.argument("username")
@click.argument("kind", type=_KIND)
@_UNIT_OPTION
def akses_beri(username: str, kind: str, unit_code: str | None) -> None:
    """Beri USERNAME hak akses KIND (untuk satu unit atau semua unit)."""
    with _database() as database, database.transaction() as session:
        access.grant(session, username, kind, unit_code)
    click.echo(f"{username}: {access.describe([(kind, unit_code)])} diberikan.")


@akses.command("cabut")
@click.argument("username")
@click.argument("kind", type=_KIND)
@_UNIT_OPTION
def akses_cabut(username: str, kind: str, unit_code: str | None) -> None:
    """Cabut hak akses KIND dari USERNAME."""
    with _database() as database, database.transaction() as session:
        removed = access.revoke(session, username, kind, unit_code)
    if not removed:
        raise click.ClickException(f"{username} tidak memegang {access.describe([(kind, unit_code)])}.")
    click.echo(f"{username}: {access.describe([(kind, unit_code)])} dicabut.")


@main.group()
def organisasi() -> None:
    """Data organisasi: impor pegawai dari ekspor sistem kepegawaian."""


@organisasi.command("impor")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--terapkan", is_flag=True, help="Terapkan perubahan (tanpa ini: hanya pratinjau).")
@_json_option
def organisasi_impor(file: Path, terapkan: bool, as_json: bool) -> None:
    """Bandingkan FILE (CSV/XLSX: NIP, Nama, Jabatan, Unit Kerja) dengan data organisasi; --terapkan menerapkannya."""
    from engine import employee_import

    with _database() as database, database.transaction() as session:
        rows = employee_import.read_rows(file.name, file.read_bytes())
        result = employee_import.plan(session, rows)
        if terapkan:
            employee_import.apply(session, result, by_id=None, now=datetime.now(UTC))
    payload = {"applied": terapkan, "rows": result.rows, "problems": result.problems,
               **{k: [{"nip": c.nip, "nama": c.name, "perubahan": list(c.what)} for c in getattr(result, k)]
                  for k in ("added", "changed", "deactivated")}}

    def lines() -> Iterator[str]:
        yield (f"{'Diterapkan' if terapkan else 'Pratinjau'}: {result.rows} baris, {len(result.added)} ditambah, "
               f"{len(result.changed)} diubah, {len(result.deactivated)} dinonaktifkan, "
               f"{len(result.problems)} masalah")
        for label, items in (("+", result.added), ("~", result.changed), ("-", result.deactivated)):
            for c in items:
                yield f"  {label} {c.nip} {c.name}: {'; '.join(c.what)}"
        for problem in result.problems:
            yield f"  ! {problem}"

    _emit(as_json, payload, lines)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--keluar", type=click.Path(path_type=Path),
              help="Berkas .bpmn draf (bawaan: <id proses>.bpmn); folder bila dokumen memuat beberapa SOP.")
@click.option("--laporan", type=click.Path(dir_okay=False, path_type=Path),
              help="Tulis laporan impor ke berkas ini (bawaan: cetak ke layar).")
@click.option("--id", "process_id", help="Id proses draf (bawaan: dari Nama SOP).")
@_json_option
def impor(file: Path, keluar: Path | None, laporan: Path | None, process_id: str | None, as_json: bool) -> None:
    """Jadikan dokumen SOP (PDF, XLSX, teks/TSV) draf diagram .bpmn beserta laporan impornya."""
    from engine.sop_import import MAX_FILE_BYTES, deployed_sops, import_document
    from storage.errors import SopImportError

    if file.stat().st_size > MAX_FILE_BYTES:
        raise SopImportError(f"Berkas terlalu besar (maksimum {MAX_FILE_BYTES // 1024 // 1024} MiB)")
    with _database() as database, database.transaction() as session:
        known = deployed_sops(session)
    results = import_document(file.read_bytes(), file.name, known, process_id=process_id)
    if keluar is not None and len(results) > 1:
        keluar.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        if keluar is None:
            target = Path(f"{result.process_id}.bpmn")
        elif len(results) > 1 or keluar.is_dir():
            target = keluar / f"{result.process_id}.bpmn"
        else:
            target = keluar
        target.write_bytes(result.bpmn)
        written.append(target)
    texts = [r.report.text(r.draft) for r in results]
    if laporan is not None:
        laporan.write_text("\n".join(texts), encoding="utf-8")
    payload = [{"process_id": r.process_id, "file": str(t), "report": r.report.to_json_dict(r.draft)}
               for r, t in zip(results, written, strict=True)]

    def lines() -> Iterator[str]:
        for result, target, text in zip(results, written, texts, strict=True):
            yield f"Draf {result.process_id} ditulis ke {target}"
            if laporan is None:
                yield text
        if laporan is not None:
            yield f"Laporan impor ditulis ke {laporan}"

    _emit(as_json, payload, lines)
@main.command("dokumen")
@click.argument("process_id")
@click.option("--versi", type=click.IntRange(min=1), default=None, help="Versi SOP (bawaan: terbaru).")
@click.option("--unit", "unit_code", default=None, help="Kode unit kerja yang namanya tampil, mis. dinas-kominfo.")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tulis PDF ke berkas ini.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tulis HTML (gaya cetak) ke berkas ini.")
@click.option("--kertas", type=click.Choice(["A4", "F4"], case_sensitive=False), default="A4", show_default=True,
              help="Ukuran kertas (lanskap).")
@click.option("--instansi", default=None, help="Instansi induk unit (bawaan: ALUR_INSTANSI).")
def dokumen(process_id: str, versi: int | None, unit_code: str | None, pdf_path: Path | None,
            html_path: Path | None, kertas: str, instansi: str | None) -> None:
    """Buat dokumen SOP-AP (Permenpan RB 35/2012) dari diagram: PDF dan/atau HTML.

    Tanpa --pdf dan --html, PDF ditulis ke PROCESS_ID-vVERSI.pdf di folder kerja.
    """
    from engine.sop_document import document_for
    from web import sop_render

    with _database() as database, database.transaction() as session:
        doc = document_for(session, process_id, version=versi, unit_code=unit_code,
                           institution=instansi if instansi is not None else load_settings().instansi)
    paper = sop_render.paper_named(kertas)
    if pdf_path is None and html_path is None:
        pdf_path = Path(f"{doc.process_id}-v{doc.version}.pdf")
    outputs: list[tuple[Path, bytes]] = []
    if pdf_path is not None:
        rendered = sop_render.render_pdf(doc, paper=paper)
        assert rendered.pdf is not None
        outputs.append((pdf_path, rendered.pdf))
    else:
        rendered = sop_render.render_html(doc, paper=paper)
    if html_path is not None:
        outputs.append((html_path, rendered.html.encode("utf-8")))
    pages = len(rendered.layouts)
    for path, data in outputs:
        try:
            path.write_bytes(data)
        except OSError as exc:
            click.echo(f"Galat: tidak dapat menulis {path}: {exc.strerror or exc}", err=True)
            sys.exit(1)
        click.echo(f"{doc.identity.nama_sop} ({doc.process_id} v{doc.version}), {len(doc.rows)} langkah, "
                   f"{pages} halaman {paper.name} -> {path}")


@main.group("audit")
def audit_group() -> None:
    """Bukti riwayat: segel, verifikasi rantai hash, putar ulang instans."""


@audit_group.command("seal")
@_json_option
def audit_seal(as_json: bool) -> None:
    """Segel semua kejadian sejak segel terakhir ke rantai segel global."""
    with _database() as database, database.transaction() as session:
        sealed = audit.seal(session)
    _emit(as_json, sealed, lambda: [
        "Tidak ada kejadian baru untuk disegel." if sealed is None else
        f"Segel {sealed['id']}: kejadian {sealed['first_event_id']}–{sealed['last_event_id']} "
        f"({sealed['event_count']}), hash {sealed['seal_hash']}"])


@audit_group.command("verify")
@click.option("--instance", "instance_id", type=int, default=None, help="Hanya rantai instans ini.")
@_json_option
def audit_verify(instance_id: int | None, as_json: bool) -> None:
    """Hitung ulang rantai hash: "utuh" atau mata rantai pertama yang rusak (keluar 1)."""
    with _database() as database, database.transaction() as session:
        verdict = audit.verify(session, instance_id)
    _emit(as_json, {**verdict.to_json(), "text": verdict.text}, lambda: [
        f"{verdict.text} ({verdict.checked_instances} instans, {verdict.checked_seals} segel diperiksa)"])
    if not verdict.intact:
        sys.exit(1)


@audit_group.command("replay")
@click.argument("instance_id", type=int)
@_json_option
def audit_replay(instance_id: int, as_json: bool) -> None:
    """Jalankan ulang penyelesaian yang tercatat dan bandingkan dengan yang tersimpan (keluar 1 bila beda)."""
    with _database() as database, database.transaction() as session:
        outcome = replay.replay(session, instance_id)
        session.rollback()
    _emit(as_json, outcome.to_json(), lambda: [
        f"Instans {instance_id}: {'cocok' if outcome.clean else 'BERBEDA'} "
        f"({outcome.completions} penyelesaian diputar ulang)", *(f"  - {d}" for d in outcome.differences)])
    if not outcome.clean:
        sys.exit(1)
@main.command("worker")
@click.option("--once", is_flag=True, help="Jalankan job yang sudah jatuh tempo, lalu berhenti.")
@click.option("--name", default=None, help="Nama worker di tabel job (bawaan: host:pid).")
def worker_command(once: bool, name: str | None) -> None:
    """Jalankan worker: pengingat, eskalasi, e-mail, webhook (berhenti dengan SIGTERM/Ctrl+C)."""
    from engine.worker import serve

    with _database() as database:
        count = serve(database, load_settings(), once=once, name=name)
    if once:
        click.echo(f"{count} job dijalankan.")


@main.command("demo")
@click.option("--verbose", "-v", is_flag=True, help="Tampilkan setiap langkah.")
@click.option("--riwayat", "months", type=click.IntRange(0, 60), default=0,
              help="Tambahkan riwayat sekian bulan terakhir (dijalankan lewat mesin, waktu lampau).")
@click.option("--per-bulan", "per_month", type=click.IntRange(1, 50), default=2,
              help="Instans per unit per bulan untuk --riwayat.")
@_json_option
def demo_command(verbose: bool, months: int, per_month: int, as_json: bool) -> None:
    """Jalankan setiap SOP sampai selesai dengan pegawai demo (dan, dengan --riwayat, riwayat berbulan-bulan)."""
    with _database() as database:
        results = demo.run_demo(database.transaction)
        generated = riwayat.generate(database.transaction, months=months, per_month=per_month) if months else None
    if generated is not None and not as_json:
        click.echo(f"Riwayat {months} bulan: {generated.started} instans dimulai, {generated.completed} selesai, "
                   f"{generated.steps} langkah, {generated.late} terlambat, {generated.tidak} putaran 'tidak'.")
    payload = [{**r.__dict__, "finished": r.finished} for r in results]
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for r in results:
            calls = ", ".join(r.call_activities) or "-"
            click.echo(f"{'OK ' if r.finished else 'GAGAL'} {r.process_name} ({r.process_id}) di {r.unit_code}: "
                       f"{r.steps} langkah, {r.loops} putaran 'tidak', call activity: {calls}; "
                       f"status akhir: {r.status}" + (f" — {r.error}" if r.error else ""))
            if verbose:
                for line in r.trail:
                    click.echo(f"      {line}")
        done = sum(r.finished for r in results)
        click.echo(f"{done}/{len(results)} SOP selesai.")
    if not all(r.finished for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
