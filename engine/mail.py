"""E-mail over SMTP, sent only by the worker (never inside a user's request).

Every message carries a ``Message-ID`` derived from what it reports (the
notification id, or the user and day of a digest) and an
``X-Alur-Notification-Id`` header: if a worker is killed between sending and
recording, the one duplicate that may follow has the same ids, so a mail
client (or a reader) sees it is the same message.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from engine.settings import MailSettings
from storage.errors import DeliveryError

__all__ = ["build_message", "message_id", "send"]

TIMEOUT_SECONDS = 30


def message_id(local_part: str, sender: str) -> str:
    """A stable ``Message-ID`` ``<local_part@domain of sender>``."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{local_part}@{domain}>"


def build_message(*, sender: str, to: str, subject: str, body: str, msg_id: str,
                  notification_ids: list[int]) -> EmailMessage:
    """A plain-text UTF-8 message with its stable ``Message-ID`` and the notification ids it reports."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = msg_id
    message["X-Alur-Notification-Id"] = ",".join(str(i) for i in notification_ids)
    message["Content-Language"] = "id"
    message.set_content(body)
    return message


def send(settings: MailSettings, message: EmailMessage) -> None:
    """Send ``message`` through the SMTP server of ``settings``.

    Raises ``DeliveryError`` when e-mail is off (no host) or the server refuses;
    ``ambiguous`` is True when the connection broke or timed out after the
    message may have been accepted.
    """
    if not settings.host:
        raise DeliveryError("ALUR_SMTP_HOST belum diatur / e-mail is off")
    try:
        if settings.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT_SECONDS,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"Server SMTP tidak dapat dihubungi: {exc}") from exc
    try:
        with client:
            if settings.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.user:
                client.login(settings.user, settings.password or "")
            client.send_message(message)
    except (smtplib.SMTPServerDisconnected, TimeoutError) as exc:
        raise DeliveryError(f"Koneksi SMTP terputus: {exc}", ambiguous=True) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"Server SMTP menolak pesan: {exc}") from exc
