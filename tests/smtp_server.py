"""A real SMTP server for tests: what a sender delivers is really sent over TCP.

`SmtpSink` runs aiosmtpd on 127.0.0.1 in a background thread, keeps every message it
accepts (parsed with `email.policy.default`) and can be told to answer MAIL, RCPT or
DATA with an error, to require AUTH, to offer STARTTLS or to speak TLS from the start.
The TLS helpers make a throwaway self-signed certificate with the `openssl` CLI.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

Command = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted message: its envelope, the parsed message and who logged in."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None = None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def make_self_signed_cert(directory: Path, *, hostname: str = "localhost") -> tuple[Path, Path]:
    """(cert.pem, key.pem) for `hostname` and 127.0.0.1, valid for two days."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments, no shell, test-only
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={hostname}",
            "-addext",
            f"subjectAltName=DNS:{hostname},IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def client_tls_context(cert: Path) -> ssl.SSLContext:
    """A client context that trusts only `cert` (and still checks the host name)."""
    return ssl.create_default_context(cafile=str(cert))


class _Handler:
    """aiosmtpd hooks; they run on the server thread."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        if self._sink.requires_auth and not session.authenticated:
            # Checked here, not with aiosmtpd's auth_required, which warns without TLS.
            return "530 5.7.0 Authentication required"
        failure = self._sink._take_failure("MAIL")
        if failure is not None:
            return failure
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        failure = self._sink._take_failure("RCPT", address)
        if failure is not None:
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        failure = self._sink._take_failure("DATA")
        if failure is not None:
            return failure
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(message, EmailMessage)
        login = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode("utf-8")
        self._sink._record(
            ReceivedMessage(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,
                login=login,
            )
        )
        return "250 OK"


class SmtpSink:
    """A real aiosmtpd SMTP server on 127.0.0.1 that stores what it receives.

    credentials: user name -> password; when given, AUTH (PLAIN/LOGIN) is offered and
      required before MAIL. Without `tls_context` AUTH is allowed in clear text.
    tls_context: offer STARTTLS with this server context; `require_starttls` refuses
      every command but EHLO/STARTTLS/QUIT until TLS is on.
    implicit_tls_context: speak TLS from the first byte (SMTPS) instead.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        credentials: Mapping[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        implicit_tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if require_starttls and tls_context is None:
            raise ValueError("require_starttls needs a tls_context")
        self.host = host
        self.port = port or 0
        self._requested_port = port
        self._credentials = dict(credentials) if credentials is not None else None
        self._tls_context = tls_context
        self._require_starttls = require_starttls
        self._implicit_tls_context = implicit_tls_context
        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self._failures: dict[Command, deque[str]] = {
            "MAIL": deque(),
            "RCPT": deque(),
            "DATA": deque(),
        }
        self._refused_recipients: dict[str, str] = {}
        self._controller: Controller | None = None

    @property
    def requires_auth(self) -> bool:
        return self._credentials is not None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("SmtpSink is already running")
        last_error: Exception | None = None
        # free_port() can race with another process taking the port; try a few.
        for _ in range(1 if self._requested_port else 5):
            port = self._requested_port or free_port()
            controller = self._controller_for(port)
            try:
                controller.start()
            except OSError as exc:
                last_error = exc
                controller.stop(no_assert=True)
                continue
            self._controller = controller
            self.port = port
            return
        raise RuntimeError(f"SmtpSink could not start: {last_error}") from last_error

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _controller_for(self, port: int) -> Controller:
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": port,
            "server_hostname": "localhost",  # skips a reverse DNS lookup per connection
            "ready_timeout": 5.0,
        }
        if self._implicit_tls_context is not None:
            kwargs["ssl_context"] = self._implicit_tls_context
        if self._tls_context is not None:
            kwargs["tls_context"] = self._tls_context
            kwargs["require_starttls"] = self._require_starttls
        if self._credentials is not None:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_require_tls"] = self._tls_context is not None
        return Controller(_Handler(self), **kwargs)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        credentials = self._credentials or {}
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", errors="replace")
            password = auth_data.password.decode("utf-8", errors="replace")
            if login in credentials and credentials[login] == password:
                return AuthResult(success=True, auth_data=auth_data)
        # handled=False: aiosmtpd answers "535 5.7.8 Authentication credentials invalid".
        return AuthResult(success=False, handled=False)

    # -- behaviour ---------------------------------------------------------------

    def fail_next(self, code_and_text: str, times: int = 1, *, command: Command = "DATA") -> None:
        """Answer the next `times` `command`s (DATA by default) with e.g. "451 4.3.0 later"."""
        _check_reply(code_and_text)
        with self._lock:
            self._failures[command].extend([code_and_text] * times)

    def refuse_recipient(self, address: str, code_and_text: str) -> None:
        """Answer every RCPT TO for `address` with this reply, until `clear()`."""
        _check_reply(code_and_text)
        with self._lock:
            self._refused_recipients[address.lower()] = code_and_text

    def clear(self) -> None:
        """Forget received messages and pending failures."""
        with self._lock:
            self._messages.clear()
            for queue in self._failures.values():
                queue.clear()
            self._refused_recipients.clear()

    # -- results -----------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot of the accepted messages, oldest first."""
        with self._lock:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedMessage]:
        """The messages once there are at least `count`; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages
            if len(messages) >= count:
                return messages
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"expected at least {count} message(s) within {timeout}s, got {len(messages)}"
                )
            time.sleep(0.01)

    def _take_failure(self, command: Command, address: str | None = None) -> str | None:
        with self._lock:
            if address is not None and address.lower() in self._refused_recipients:
                return self._refused_recipients[address.lower()]
            queue = self._failures[command]
            return queue.popleft() if queue else None

    def _record(self, message: ReceivedMessage) -> None:
        with self._lock:
            self._messages.append(message)


def _check_reply(code_and_text: str) -> None:
    code = code_and_text[:3]
    if not (code.isdigit() and code[0] in "2345" and code_and_text[3:4] in {" ", ""}):
        raise ValueError(f"not an SMTP reply: {code_and_text!r}")
