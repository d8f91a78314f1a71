"""The administrator's page for each unit's follow-up policy: validation, CSRF, scope (404), the change record."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine import access, followups
from engine.database import Database
from storage import org

KECAMATAN = "kecamatan-contoh"
DINAS = "dinas-kominfo"
GOOD = {"reminder_percent": "60", "remind_when_due": "y", "escalate_after_hours": "15",
        "webhook_url": "https://pesan.kab-contoh.go.id/alur", "webhook_secret": "rahasia-kantor-123456"}


def _unit_id(database: Database, code: str) -> int:
    with database.transaction() as session:
        return org.get_unit_by_code(session, code).id


def _policy(database: Database, code: str) -> followups.Policy:
    with database.transaction() as session:
        return followups.policy_of(session, _unit_id(database, code))


def test_admin_changes_a_policy_and_the_change_is_recorded(client: FlaskClient, auth, form_post,
                                                           database: Database) -> None:
    auth.login("admin.alur")
    listing = client.get("/admin/kebijakan").get_data(as_text=True)
    assert 'data-unit="kecamatan-contoh"' in listing and 'data-unit="dinas-kominfo"' in listing
    url = f"/admin/kebijakan/{_unit_id(database, KECAMATAN)}"
    answer = form_post(client, url, GOOD)
    assert answer.status_code == 302
    policy = _policy(database, KECAMATAN)
    assert (policy.reminder_percent, policy.remind_when_due, policy.escalate_after_minutes) == (60, True, 900)
    assert (policy.webhook_url, policy.webhook_secret) == (GOOD["webhook_url"], GOOD["webhook_secret"])
    # Turning the due reminder off (an unchecked box is absent) and keeping the secret (left empty).
    form_post(client, url, {**GOOD, "remind_when_due": "", "webhook_secret": "", "escalate_after_hours": "7.5"})
    policy = _policy(database, KECAMATAN)
    assert (policy.remind_when_due, policy.escalate_after_minutes, policy.webhook_secret) == (
        False, 450, GOOD["webhook_secret"])
    with database.transaction() as session:
        changes = followups.policy_changes(session, _unit_id(database, KECAMATAN))
    assert [c.changed_by for c in changes] == ["admin.alur", "admin.alur"]
    latest, first = changes
    assert (first.before["reminder_percent"], first.after["reminder_percent"]) == (75, 60)
    assert first.after["webhook_secret_changed"] is True and latest.after["webhook_secret_changed"] is False
    assert GOOD["webhook_secret"] not in repr(changes)  # the secret is never recorded
    page = client.get(url).get_data(as_text=True)
    assert 'id="policy-changes"' in page and GOOD["webhook_secret"] not in page
    # Clearing the URL removes the webhook.
    form_post(client, url, {**GOOD, "webhook_url": "", "webhook_secret": ""})
    assert _policy(database, KECAMATAN).webhook_url is None


def test_bad_input_is_refused_and_changes_nothing(client: FlaskClient, auth, form_post, database: Database) -> None:
    auth.login("admin.alur")
    url = f"/admin/kebijakan/{_unit_id(database, KECAMATAN)}"
    bad_inputs = [
        ({"reminder_percent": "0"}, "1 sampai 99"),
        ({"reminder_percent": "100"}, "1 sampai 99"),
        ({"reminder_percent": "lima"}, ""),
        ({"escalate_after_hours": "-1"}, "0 sampai"),
        ({"webhook_url": "ftp://x.go.id/a"}, "http"),
        ({"webhook_url": "javascript:alert(1)"}, "http"),
        ({"webhook_secret": "pendek"}, "16 sampai 255"),
        ({"webhook_secret": ""}, "kunci rahasia"),  # a new webhook needs a secret
    ]
    for change, message in bad_inputs:
        answer = form_post(client, url, {**GOOD, **change})
        assert answer.status_code == 422, change
        assert message in answer.get_data(as_text=True), change
    assert _policy(database, KECAMATAN) == followups.Policy()
    with database.transaction() as session:
        assert followups.policy_changes(session, _unit_id(database, KECAMATAN)) == []


def test_forged_post_without_csrf_token_changes_nothing(client: FlaskClient, auth, database: Database) -> None:
    auth.login("admin.alur")
    answer = client.post(f"/admin/kebijakan/{_unit_id(database, KECAMATAN)}", data=GOOD)
    assert answer.status_code == 400
    assert _policy(database, KECAMATAN) == followups.Policy()


def test_non_administrators_and_units_outside_the_grant_get_404(client: FlaskClient, auth, form_post,
                                                                database: Database) -> None:
    kecamatan, dinas = _unit_id(database, KECAMATAN), _unit_id(database, DINAS)
    auth.login("camat.contoh")  # head of the unit, not an administrator
    assert client.get("/admin/kebijakan").status_code == 404
    assert client.get(f"/admin/kebijakan/{kecamatan}").status_code == 404
    assert client.post(f"/admin/kebijakan/{kecamatan}", data=GOOD).status_code in (400, 404)
    auth.logout()
    with database.transaction() as session:
        access.grant(session, "analis.kecamatan", access.ADMINISTRATOR, KECAMATAN)
    auth.login("analis.kecamatan")  # administrator of the Kecamatan only
    listing = client.get("/admin/kebijakan").get_data(as_text=True)
    assert 'data-unit="kecamatan-contoh"' in listing and 'data-unit="dinas-kominfo"' not in listing
    assert client.get(f"/admin/kebijakan/{kecamatan}").status_code == 200
    assert client.get(f"/admin/kebijakan/{dinas}").status_code == 404
    answer = form_post(client, f"/admin/kebijakan/{dinas}", GOOD, page=f"/admin/kebijakan/{kecamatan}")
    assert answer.status_code == 404
    assert client.get("/admin/kebijakan/999999").status_code == 404
    assert _policy(database, DINAS) == followups.Policy()


def test_pages_need_a_login(client: FlaskClient) -> None:
    assert client.get("/admin/kebijakan").status_code == 302
    assert client.get("/admin/kebijakan/1").status_code == 302
