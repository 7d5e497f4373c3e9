"""Email delivery backends: hand one already-composed message to a mail system.

The outbox worker owns retries and bookkeeping; this module owns only the last step,
turning an `OutgoingEmail` into a MIME message and delivering it once. Every failure is
reported as a `DeliveryError` that says whether trying again later can help, so the
worker can tell a busy server (retry) from a refused mailbox (give up).

Messages carry personal data, so nothing here logs bodies, subjects or addresses:
only the message id.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import smtplib
import ssl
import sys
import tempfile
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.policy import Policy
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Protocol, Self, TextIO

from app.config import Settings
from app.files import owner_only_folder

log = logging.getLogger("trialfinder.outbox.email")

# str.splitlines() splits on these too, and so may a mail client; NUL is never valid.
_LINE_BREAKS = frozenset("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029\x00")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._@+=-]")
EXTRA_HEADERS = frozenset({"List-Unsubscribe", "List-Unsubscribe-Post"})
"""The header fields a queued message may add to those every message has."""


def _check_header(name: str, value: str) -> None:
    if any(ch in _LINE_BREAKS for ch in value):
        raise ValueError(f"{name} must be a single line (line breaks would inject headers)")


def _bare_address(value: str) -> str:
    """`a@b.example` from `Name <a@b.example>`; ValueError when there is no address."""
    address = parseaddr(value)[1]
    if not address or "@" not in address:
        raise ValueError("sender has no email address")
    return address


@dataclass(frozen=True)
class OutgoingEmail:
    """One composed email, exactly as it should leave; the same object may be sent again."""

    message_id: str
    sender: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    """Extra header fields, each once: only those in EXTRA_HEADERS (RFC 8058's pair)."""

    def validate(self) -> None:
        """Raise ValueError if this email cannot be sent safely (e.g. header injection)."""
        if isinstance(self.to, str) or not self.to:
            raise ValueError("to must be a non-empty tuple of addresses")
        _check_header("message_id", self.message_id)
        if not _MESSAGE_ID.fullmatch(self.message_id):
            raise ValueError("message_id must look like <local@domain>, angle brackets included")
        _check_header("sender", self.sender)
        _bare_address(self.sender)
        for address in self.to:
            _check_header("to", address)
            if not address.strip():
                raise ValueError("to contains an empty address")
        _check_header("subject", self.subject)
        if self.reply_to is not None:
            _check_header("reply_to", self.reply_to)
        names = [name for name, _ in self.headers]
        if len(set(names)) != len(names) or not set(names) <= EXTRA_HEADERS:
            raise ValueError(f"extra headers may be {sorted(EXTRA_HEADERS)}, each once")
        for name, value in self.headers:
            _check_header(name, value)

    def to_message(self) -> EmailMessage:
        """The MIME message: UTF-8, plain text with an optional HTML alternative."""
        self.validate()
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        if self.reply_to:
            message["Reply-To"] = self.reply_to
        message["Subject"] = (
            self.subject if self.subject.isascii() else _EncodedWordsHeader("Subject", self.subject)
        )
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = self.message_id
        for name, value in self.headers:
            message[name] = value
        # Quoted-printable keeps non-ASCII bodies 7-bit clean for any SMTP server.
        message.set_content(self.text, charset="utf-8", cte=_body_cte(self.text))
        if self.html is not None:
            message.add_alternative(
                self.html, subtype="html", charset="utf-8", cte=_body_cte(self.html)
            )
        if "MIME-Version" not in message:
            message["MIME-Version"] = "1.0"
        return message


class _EncodedWordsHeader(str):
    """A non-ASCII unstructured header folded by `email.header.Header`.

    The `email.policy.default` folder can drop the space between two words that it
    splits across encoded words, or glue encoded words together (CPython gh-144156),
    which alters the subject or gets the message rejected. The older encoder keeps
    every space inside the encoded words. The value reads back as the plain string.
    """

    name: str

    def __new__(cls, name: str, value: str) -> Self:
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: Policy) -> str:
        linesep = policy.linesep
        encoded = Header(str(self), "utf-8", header_name=self.name).encode(linesep=linesep)
        return f"{self.name}: {encoded}{linesep}"


def _body_cte(body: str) -> str | None:
    return None if body.isascii() else "quoted-printable"


class DeliveryError(Exception):
    """The message was not delivered.

    transient=True: try again later (connection refused, timeout, SMTP 4xx);
    transient=False: permanent, retrying the same message will not help (SMTP 5xx).
    str(e) is the reason, including the server's reply when there is one.
    """

    def __init__(self, reason: str, *, transient: bool, smtp_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.smtp_code = smtp_code

    @property
    def permanent(self) -> bool:
        return not self.transient

    def __repr__(self) -> str:
        return (
            f"DeliveryError({self.reason!r}, transient={self.transient}, "
            f"smtp_code={self.smtp_code})"
        )


class Sender(Protocol):
    """A delivery backend."""

    def send(self, email: OutgoingEmail) -> None:
        """Deliver once: return on success, raise DeliveryError otherwise.

        ValueError means the email itself is malformed (see `OutgoingEmail.validate`).
        """
        ...

    def forget(self, message_id: str) -> None:
        """Remove any copy this backend keeps of a message, which was erased while it was
        being sent. A mail server's copy cannot be called back; a file can."""
        ...


class FileSender:
    """Writes each message to `<directory>/<safe name>.eml`, for development and demos.

    The name comes from the message id, so sending the same message again replaces
    the file instead of adding a copy.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path_for(self, message_id: str) -> Path:
        """Where a message id is stored; never outside `directory`."""
        readable = _UNSAFE_FILENAME_CHARS.sub("_", message_id.strip("<>"))
        readable = re.sub(r"\.{2,}", ".", readable).lstrip(".")[:80]
        # Sanitising maps different ids to one name; the digest keeps them apart.
        digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:16]
        return self.directory / f"{readable or 'message'}-{digest}.eml"

    def send(self, email: OutgoingEmail) -> None:
        data = email.to_message().as_bytes()
        path = self.path_for(email.message_id)
        try:
            owner_only_folder(self.directory)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("email %s not written: %s", email.message_id, type(exc).__name__)
            raise DeliveryError(f"cannot write {path}: {exc}", transient=True) from exc
        log.info("email %s written to %s", email.message_id, path.name)

    def forget(self, message_id: str) -> None:
        self.path_for(message_id).unlink(missing_ok=True)


class ConsoleSender:
    """Prints each message to a text stream (standard output by default), for development."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, email: OutgoingEmail) -> None:
        text = email.to_message().as_string()
        # Looked up at send time so that a redirected sys.stdout is honoured.
        stream = self.stream if self.stream is not None else sys.stdout
        stream.write(text if text.endswith("\n") else text + "\n")
        stream.write("-" * 72 + "\n")
        stream.flush()

    def forget(self, message_id: str) -> None:
        """Printed output cannot be taken back."""


class MemorySender:
    """Keeps sent emails in `.sent`, for tests; set `.fail_with` to make every send raise it."""

    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self.fail_with: DeliveryError | None = None

    def send(self, email: OutgoingEmail) -> None:
        email.validate()
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(email)

    def forget(self, message_id: str) -> None:
        self.sent = [email for email in self.sent if email.message_id != message_id]


class SmtpSender:
    """Delivers through an SMTP server, one connection per message.

    `starttls` upgrades a plain connection and refuses to go on in clear text;
    `use_ssl` speaks TLS from the first byte (SMTPS, usually port 465).
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_ssl: bool = False,
        timeout: float = 10,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if starttls and use_ssl:
            raise ValueError("choose STARTTLS or implicit TLS (smtp_ssl), not both")
        if (username is None) != (password is None):
            raise ValueError("SMTP username and password go together")
        if not ((username or "").isascii() and (password or "").isascii()):
            raise ValueError("SMTP username and password must be ASCII")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._ssl_context = ssl_context
        if (starttls or use_ssl) and ssl_context is None:
            self._ssl_context = ssl.create_default_context()

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            use_ssl=settings.smtp_ssl,
            timeout=settings.smtp_timeout,
        )

    def send(self, email: OutgoingEmail) -> None:
        message = email.to_message()
        from_addr = _bare_address(email.sender)
        try:
            refused = self._deliver(message, from_addr, list(email.to))
        except DeliveryError as exc:
            log.warning(
                "email %s not sent via SMTP (%s, code %s)",
                email.message_id,
                "transient" if exc.transient else "permanent",
                exc.smtp_code,
            )
            raise
        if refused:
            # Some recipients have it already: a retry would send them a duplicate.
            log.warning(
                "email %s sent via SMTP but %d recipient(s) refused (codes %s)",
                email.message_id,
                len(refused),
                sorted({code for code, _ in refused.values()}),
            )
        else:
            log.info("email %s sent via SMTP", email.message_id)

    def _deliver(
        self, message: EmailMessage, from_addr: str, to_addrs: list[str]
    ) -> dict[str, tuple[int, bytes]]:
        client: smtplib.SMTP | None = None
        try:
            # Connecting in the constructor checks the 220 greeting and records the
            # host name that TLS verifies the certificate against.
            if self.use_ssl:
                client = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    local_hostname=self.local_hostname,
                    timeout=self.timeout,
                    context=self._ssl_context,
                )
            else:
                client = smtplib.SMTP(
                    self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
                )
            if self.starttls:
                code, reply = client.starttls(context=self._ssl_context)
                if code != 220:
                    # smtplib carries on in clear text after a refused STARTTLS.
                    raise DeliveryError(
                        f"STARTTLS refused: {_reply(code, reply)}",
                        transient=_is_transient_code(code),
                        smtp_code=code,
                    )
            if self.username is not None and self.password is not None:
                client.login(self.username, self.password)
            refused = client.send_message(message, from_addr=from_addr, to_addrs=to_addrs)
        except DeliveryError:
            if client is not None:
                client.close()
            raise
        except OSError as exc:  # smtplib and ssl errors are OSErrors too
            if client is not None:
                client.close()
            raise self._error_for(exc) from exc
        # Delivered: a failing QUIT must not turn success into a retry (and a duplicate).
        try:
            client.quit()
        except OSError:
            client.close()
        return dict(refused)

    def _error_for(self, exc: OSError) -> DeliveryError:
        where = f"{self.host}:{self.port}"
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            replies = "; ".join(_reply(code, text) for code, text in exc.recipients.values())
            temporary = [code for code in codes if not 500 <= code <= 599]
            return DeliveryError(
                f"all recipients refused: {replies}",
                transient=bool(temporary),
                smtp_code=temporary[0] if temporary else (codes[0] if codes else None),
            )
        if isinstance(exc, smtplib.SMTPConnectError):
            # A greeting other than 220 is a server that is not ready (yet).
            return DeliveryError(
                f"{where} refused the connection: {_reply(exc.smtp_code, exc.smtp_error)}",
                transient=True,
                smtp_code=exc.smtp_code,
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            # Sender refused, data refused, authentication failed, HELO refused.
            return DeliveryError(
                _reply(exc.smtp_code, exc.smtp_error),
                transient=_is_transient_code(exc.smtp_code),
                smtp_code=exc.smtp_code,
            )
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return DeliveryError(f"{where} disconnected: {exc}", transient=True)
        if isinstance(exc, smtplib.SMTPException):
            # The server lacks something we are configured to need (STARTTLS, AUTH,
            # SMTPUTF8): retrying the same message cannot help until someone steps in.
            return DeliveryError(f"{where}: {exc}", transient=False)
        if isinstance(exc, ssl.SSLError):
            return DeliveryError(f"TLS with {where} failed: {exc}", transient=True)
        if isinstance(exc, TimeoutError):
            return DeliveryError(f"{where} timed out after {self.timeout:g}s", transient=True)
        return DeliveryError(f"cannot reach {where}: {exc}", transient=True)

    def forget(self, message_id: str) -> None:
        """A mail server's copy cannot be called back (the site gets a deletion note)."""


def _is_transient_code(code: int) -> bool:
    """5xx is permanent; 4xx and anything unexpected is worth another try."""
    return not 500 <= code <= 599


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {' '.join(text.split())}".strip()


def sender_from_settings(settings: Settings) -> Sender:
    """The backend `settings.email_backend` names."""
    if settings.email_backend == "smtp":
        return SmtpSender.from_settings(settings)
    if settings.email_backend == "console":
        return ConsoleSender()
    return FileSender(settings.mail_dir)
