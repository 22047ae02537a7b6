"""Delivery channels: email through SMTP (smtplib) and a JSON webhook (urllib).

Each channel raises on failure; the dispatcher decides whether to retry.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send email."""

    host: str
    port: int = 25
    starttls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "permanence@localhost"
    timeout: float = 10.0


class EmailChannel:
    """One SMTP connection, opened on first use and reused for a batch of messages."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        # Once the server cannot be reached in a pass, the rest fail at once rather than
        # each waiting out the timeout; the dispatcher retries them all later.
        self._down: Exception | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.use_ssl:
            smtp = smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            if cfg.starttls:
                smtp.starttls(context=ssl.create_default_context())
        if cfg.username:
            smtp.login(cfg.username, cfg.password or "")
        return smtp

    def send(
        self,
        to: str,
        subject: str,
        body: str,
        *,
        message_id: str | None = None,
        calendar: tuple[str, bytes] | None = None,
    ) -> None:
        """Send one plain-text email, with a calendar invitation attached when ``calendar``
        gives its iTIP method and .ics bytes; raises on any failure."""
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = to
        message["Subject"] = subject
        if message_id:
            message["Message-ID"] = message_id
        message.set_content(body)
        if calendar is not None:
            method, ics = calendar
            message.add_attachment(
                ics,
                maintype="text",
                subtype="calendar",
                filename="invitation.ics",
                params={"method": method, "charset": "utf-8"},
            )
        if self._down is not None:
            raise ConnectionError(f"SMTP server unavailable: {self._down}")
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                self._down = exc
                raise
        try:
            self._smtp.send_message(message)
        except (smtplib.SMTPServerDisconnected, OSError):
            # A dropped connection is not a refused message: drop it so the next try reconnects.
            self.close()
            raise

    def close(self) -> None:
        """Close the connection if open (errors on closing are of no consequence)."""
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None

    def __enter__(self) -> EmailChannel:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()


SIGNATURE_HEADER = "X-Permanence-Signature"
DELIVERY_HEADER = "X-Permanence-Delivery"


def signature(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``: ``sha256=`` and the hex HMAC-SHA256 of the
    exact bytes sent, keyed with ``secret``. A receiver computes the same over the bytes it
    received and compares with ``hmac.compare_digest``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookChannel:
    """A JSON POST to one URL (a Teams or Slack incoming webhook, or the case management
    system's): signed with HMAC-SHA256 in ``X-Permanence-Signature`` when a secret is set."""

    def __init__(self, url: str, timeout: float = 10.0, *, secret: str | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self.secret = secret

    def send(self, body: dict[str, Any], *, delivery_id: str | None = None) -> None:
        """POST ``body`` as JSON; raises unless the answer is 2xx. ``delivery_id`` goes in
        ``X-Permanence-Delivery``, the same on every retry, so a receiver can drop a repeat."""
        data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json"}
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, data)
        if delivery_id:
            headers[DELIVERY_HEADER] = delivery_id
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if not 200 <= response.status < 300:
                raise OSError(f"webhook answered {response.status}")
