"""Email senders against a real SMTP server on 127.0.0.1 (no mocks of smtplib)."""

from __future__ import annotations

import datetime as dt
import io
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.config import Settings
from app.outbox.email.senders import (
    ConsoleSender,
    DeliveryError,
    FileSender,
    MemorySender,
    OutgoingEmail,
    Sender,
    SmtpSender,
    sender_from_settings,
)
from tests.smtp_server import (
    SmtpSink,
    client_tls_context,
    free_port,
    make_self_signed_cert,
    openssl_available,
    server_tls_context,
)

SUBJECT = "Votre demande « essai cœur » à Zürich — réponse"
TEXT = "Bonjour Zoë,\n\nLe centre Hôpital Saint-Éloi a bien reçu votre demande.\n"
HTML = "<p>Bonjour Zoë,</p><p>Le centre <b>Hôpital Saint-Éloi</b> a bien reçu.</p>\n"


def make_email(**changes: object) -> OutgoingEmail:
    email = OutgoingEmail(
        message_id="<contact-12-site@trialfinder.example>",
        sender="TrialFinder Équipe <no-reply@trialfinder.example>",
        to=("site.coordinator@hospital.example", "backup@hospital.example"),
        subject=SUBJECT,
        text=TEXT,
        html=HTML,
        reply_to="José Núñez <jose.nunez@patient.example>",
    )
    return replace(email, **changes)  # type: ignore[arg-type]


def smtp_sender(sink: SmtpSink, **options: object) -> SmtpSender:
    return SmtpSender(
        "127.0.0.1",
        sink.port,
        timeout=5,
        local_hostname="localhost",
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def running_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def sink(running_sink: SmtpSink) -> SmtpSink:
    running_sink.clear()
    return running_sink


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if not openssl_available():
        pytest.skip("the openssl command is needed to make a test certificate")
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


def delivery_error(sender: Sender, email: OutgoingEmail) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        sender.send(email)
    return caught.value


# -- the message itself -------------------------------------------------------------


def test_message_arrives_with_envelope_headers_and_both_parts(sink: SmtpSink) -> None:
    email = make_email()

    smtp_sender(sink).send(email)

    [received] = sink.wait_for(1)
    assert received.mail_from == "no-reply@trialfinder.example"
    assert received.rcpt_tos == list(email.to)
    message = received.message
    assert message["Message-ID"] == "<contact-12-site@trialfinder.example>"
    assert message["Subject"] == SUBJECT
    assert message["From"].addresses[0].display_name == "TrialFinder Équipe"
    assert message["From"].addresses[0].addr_spec == "no-reply@trialfinder.example"
    assert [a.addr_spec for a in message["To"].addresses] == list(email.to)
    assert message["Reply-To"].addresses[0].display_name == "José Núñez"
    assert message["Reply-To"].addresses[0].addr_spec == "jose.nunez@patient.example"
    assert message["MIME-Version"] == "1.0"
    sent_at = parsedate_to_datetime(message["Date"])
    assert sent_at.tzinfo is not None
    assert abs(sent_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    # Lines travel as CRLF over SMTP.
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    assert html.get_content().replace("\r\n", "\n") == HTML
    assert plain.get_content_charset() == "utf-8"


def test_plain_text_only_message_has_no_html_part(sink: SmtpSink) -> None:
    smtp_sender(sink).send(make_email(html=None, reply_to=None))

    message = sink.wait_for(1)[0].message
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    assert message.get_body(("html",)) is None
    assert message.get_content().replace("\r\n", "\n") == TEXT
    assert message["Reply-To"] is None


def test_message_id_is_stable_across_attempts(sink: SmtpSink) -> None:
    sender = smtp_sender(sink)
    email = make_email()

    sender.send(email)
    sender.send(email)

    first, second = sink.wait_for(2)
    assert first.message["Message-ID"] == second.message["Message-ID"] == email.message_id


@pytest.mark.parametrize("field", ["subject", "reply_to", "to", "sender", "message_id"])
@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_breaks_in_headers_are_refused_and_nothing_is_sent(
    sink: SmtpSink, field: str, newline: str
) -> None:
    injected = f"x{newline}Bcc: victim@evil.example"
    value: object = {
        "subject": f"Hello{injected}",
        "reply_to": f"a@patient.example{injected}",
        "to": ("site@hospital.example", f"b@hospital.example{injected}"),
        "sender": f"TrialFinder <no-reply@trialfinder.example>{injected}",
        "message_id": f"<id@trialfinder.example>{injected}",
    }[field]
    email = make_email(**{field: value})

    with pytest.raises(ValueError, match="line"):
        smtp_sender(sink).send(email)
    with pytest.raises(ValueError, match="line"):
        MemorySender().send(email)

    assert sink.messages == []


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"to": ()}, "to"),
        ({"to": "site@hospital.example"}, "to"),
        ({"message_id": "no-brackets@trialfinder.example"}, "message_id"),
        ({"sender": "TrialFinder"}, "sender"),
    ],
)
def test_malformed_emails_are_refused(changes: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_email(**changes).to_message()


@given(
    before=st.text(max_size=20),
    newline=st.sampled_from(["\r", "\n", "\r\n", "\u2028", "\x00"]),
    after=st.text(max_size=20),
)
def test_any_subject_with_a_line_break_is_refused(before: str, newline: str, after: str) -> None:
    with pytest.raises(ValueError, match="line"):
        make_email(subject=before + newline + after).to_message()


_WORD = st.text(
    alphabet=st.one_of(
        st.characters(categories=["Lu", "Ll", "Nd"], max_codepoint=0x24F),
        st.sampled_from("«»—\u2019?!:,.()=_"),
    ),
    min_size=1,
    max_size=14,
)


@given(words=st.lists(_WORD, min_size=1, max_size=16))
def test_unicode_subjects_survive_a_round_trip(words: list[str]) -> None:
    # policy.default alone drops spaces in long accented subjects (CPython gh-144156).
    subject = " ".join(words)
    raw = make_email(subject=subject).to_message().as_bytes()

    parsed = BytesParser(policy=policy.default).parsebytes(raw)

    assert raw.isascii()
    assert parsed["Subject"] == subject
    assert max(len(line) for line in raw.split(b"\n")) <= 78


# -- SMTP failures --------------------------------------------------------------------


def test_451_after_data_is_transient_and_a_retry_succeeds(sink: SmtpSink) -> None:
    sink.fail_next("451 4.3.0 try again later")
    sender = smtp_sender(sink)

    error = delivery_error(sender, make_email())

    assert error.transient
    assert error.smtp_code == 451
    assert str(error) == "451 4.3.0 try again later"
    assert sink.messages == []
    sender.send(make_email())
    assert len(sink.wait_for(1)) == 1


def test_550_after_data_is_permanent(sink: SmtpSink) -> None:
    sink.fail_next("550 5.1.1 mailbox unavailable")

    error = delivery_error(smtp_sender(sink), make_email())

    assert not error.transient
    assert error.permanent
    assert error.smtp_code == 550
    assert str(error) == "550 5.1.1 mailbox unavailable"


@pytest.mark.parametrize(
    ("reply", "transient"),
    [("451 4.7.1 greylisted, come back later", True), ("553 5.7.1 sender rejected", False)],
)
def test_refused_sender_is_classified_by_its_code(
    sink: SmtpSink, reply: str, transient: bool
) -> None:
    sink.fail_next(reply, command="MAIL")

    error = delivery_error(smtp_sender(sink), make_email())

    assert error.transient is transient
    assert error.smtp_code == int(reply[:3])
    assert reply[4:] in str(error)


def test_all_recipients_refused_permanently_is_permanent(sink: SmtpSink) -> None:
    email = make_email()
    for address in email.to:
        sink.refuse_recipient(address, "550 5.1.1 no such user")

    error = delivery_error(smtp_sender(sink), email)

    assert not error.transient
    assert error.smtp_code == 550
    assert "550 5.1.1 no such user" in str(error)
    assert sink.messages == []


def test_recipients_refused_with_any_4xx_is_transient(sink: SmtpSink) -> None:
    email = make_email()
    sink.refuse_recipient(email.to[0], "550 5.1.1 no such user")
    sink.refuse_recipient(email.to[1], "450 4.2.1 mailbox busy")

    error = delivery_error(smtp_sender(sink), email)

    assert error.transient
    assert error.smtp_code == 450
    assert "450 4.2.1 mailbox busy" in str(error)


def test_partly_refused_recipients_count_as_sent(sink: SmtpSink) -> None:
    # The accepted recipient has the message: retrying would send it twice.
    email = make_email()
    sink.refuse_recipient(email.to[1], "550 5.1.1 no such user")

    smtp_sender(sink).send(email)

    [received] = sink.wait_for(1)
    assert received.rcpt_tos == [email.to[0]]


def test_server_down_is_transient() -> None:
    sender = SmtpSender("127.0.0.1", free_port(), timeout=2, local_hostname="localhost")

    error = delivery_error(sender, make_email())

    assert error.transient
    assert error.smtp_code is None
    assert "127.0.0.1" in str(error)


def test_server_that_never_answers_is_transient() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel completes the handshake; nobody ever writes
        port = silent.getsockname()[1]
        sender = SmtpSender("127.0.0.1", port, timeout=0.5, local_hostname="localhost")

        started = time.monotonic()
        error = delivery_error(sender, make_email())

    assert error.transient
    assert time.monotonic() - started < 3


# -- TLS ------------------------------------------------------------------------------


def test_starttls_against_a_server_without_it_is_permanent(sink: SmtpSink) -> None:
    # A missing STARTTLS is a configuration problem (or a downgrade attack): we never
    # fall back to clear text, and retrying will not fix it, so it is permanent.
    error = delivery_error(smtp_sender(sink, starttls=True), make_email())

    assert not error.transient
    assert "STARTTLS" in str(error)
    assert sink.messages == []


def test_starttls_delivers_over_tls(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    tls = server_tls_context(cert, key)
    with SmtpSink(tls_context=tls, require_starttls=True) as sink:
        sender = smtp_sender(sink, starttls=True, ssl_context=client_tls_context(cert))

        sender.send(make_email())

        assert sink.wait_for(1)[0].message["Subject"] == SUBJECT


def test_clear_text_to_a_server_requiring_starttls_is_permanent(
    certificate: tuple[Path, Path],
) -> None:
    cert, key = certificate
    with SmtpSink(tls_context=server_tls_context(cert, key), require_starttls=True) as sink:
        error = delivery_error(smtp_sender(sink), make_email())

    assert not error.transient
    assert error.smtp_code == 530


def test_implicit_tls_delivers(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with SmtpSink(implicit_tls_context=server_tls_context(cert, key)) as sink:
        sender = smtp_sender(sink, use_ssl=True, ssl_context=client_tls_context(cert))

        sender.send(make_email())

        assert len(sink.wait_for(1)) == 1


def test_untrusted_certificate_is_a_transient_tls_error(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with SmtpSink(implicit_tls_context=server_tls_context(cert, key)) as sink:
        # The default context trusts the system CAs, not our self-signed certificate.
        error = delivery_error(smtp_sender(sink, use_ssl=True), make_email())

        assert error.transient
        assert "TLS" in str(error)
        assert sink.messages == []


def test_auth_over_starttls(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    with SmtpSink(
        credentials={"trialfinder": "s3cret"}, tls_context=server_tls_context(cert, key)
    ) as sink:
        sender = smtp_sender(
            sink,
            starttls=True,
            ssl_context=client_tls_context(cert),
            username="trialfinder",
            password="s3cret",
        )

        sender.send(make_email())

        assert sink.wait_for(1)[0].login == "trialfinder"


# -- AUTH -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth_sink() -> Iterator[SmtpSink]:
    with SmtpSink(credentials={"trialfinder": "s3cret"}) as sink:
        yield sink


def test_login_sends_username_and_password(auth_sink: SmtpSink) -> None:
    auth_sink.clear()
    sender = smtp_sender(auth_sink, username="trialfinder", password="s3cret")

    sender.send(make_email())

    assert auth_sink.wait_for(1)[0].login == "trialfinder"


def test_wrong_password_is_permanent(auth_sink: SmtpSink) -> None:
    auth_sink.clear()
    sender = smtp_sender(auth_sink, username="trialfinder", password="wrong")

    error = delivery_error(sender, make_email())

    assert not error.transient
    assert error.smtp_code == 535
    assert str(error).startswith("535 ")
    assert auth_sink.messages == []


def test_missing_login_on_a_server_requiring_auth_is_permanent(auth_sink: SmtpSink) -> None:
    auth_sink.clear()

    error = delivery_error(smtp_sender(auth_sink), make_email())

    assert not error.transient
    assert error.smtp_code == 530


def test_login_to_a_server_without_auth_is_permanent(sink: SmtpSink) -> None:
    sender = smtp_sender(sink, username="trialfinder", password="s3cret")

    error = delivery_error(sender, make_email())

    assert not error.transient
    assert "AUTH" in str(error)


# -- logging --------------------------------------------------------------------------


def test_logs_name_the_message_id_but_no_personal_data(
    sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="trialfinder.outbox.email")
    email = make_email()
    sender = smtp_sender(sink)
    sender.send(email)
    sink.refuse_recipient(email.to[0], f"550 5.1.1 <{email.to[0]}> no such user")
    sink.refuse_recipient(email.to[1], "550 5.1.1 no such user")
    delivery_error(sender, email)

    assert email.message_id in caplog.text
    for secret in [*email.to, "jose.nunez", "Zoë", "cœur", "no-reply@"]:
        assert secret not in caplog.text


# -- other senders --------------------------------------------------------------------


def test_file_sender_writes_one_parseable_eml_per_message(tmp_path: Path) -> None:
    sender = FileSender(tmp_path / "mail")

    sender.send(make_email())
    sender.send(make_email(message_id="<contact-13-site@trialfinder.example>"))

    files = sorted((tmp_path / "mail").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]
    parsed = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == SUBJECT
    assert parsed["Message-ID"] in {
        "<contact-12-site@trialfinder.example>",
        "<contact-13-site@trialfinder.example>",
    }


def test_file_sender_names_files_safely(tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail"
    sender = FileSender(mail_dir)

    sender.send(make_email(message_id="<../../etc/passwd@x>"))

    [written] = list(tmp_path.rglob("*.eml"))
    assert written.parent == mail_dir
    assert not written.name.startswith(".")
    assert "/" not in written.name
    assert ".." not in written.name


def test_file_sender_keeps_ids_that_sanitise_alike_apart(tmp_path: Path) -> None:
    sender = FileSender(tmp_path)

    assert sender.path_for("<a/b@x>") != sender.path_for("<a_b@x>")


@given(message_id=st.text(max_size=300))
def test_file_names_never_leave_the_directory(message_id: str) -> None:
    directory = Path("/srv/mail")

    path = FileSender(directory).path_for(message_id)

    assert path.parent == directory
    assert path.name.endswith(".eml")
    assert not path.name.startswith(".")
    assert len(path.name) < 120


def test_file_sender_overwrites_the_same_message_id(tmp_path: Path) -> None:
    sender = FileSender(tmp_path)

    sender.send(make_email(subject="first"))
    sender.send(make_email(subject="second"))

    [only] = list(tmp_path.iterdir())  # no leftover temporary file either
    parsed = BytesParser(policy=policy.default).parsebytes(only.read_bytes())
    assert parsed["Subject"] == "second"


def test_file_sender_cannot_write_is_transient(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    error = delivery_error(FileSender(blocker), make_email())

    assert error.transient


def test_console_sender_writes_the_message_to_the_stream() -> None:
    stream = io.StringIO()

    ConsoleSender(stream).send(make_email(html=None))

    output = stream.getvalue()
    assert "Message-ID: <contact-12-site@trialfinder.example>" in output
    assert "Subject: " in output
    assert "Content-Type: text/plain" in output


def test_console_sender_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleSender().send(make_email())

    assert "Message-ID: <contact-12-site@trialfinder.example>" in capsys.readouterr().out


def test_memory_sender_records_and_can_fail() -> None:
    sender = MemorySender()
    sender.send(make_email())
    assert sender.sent == [make_email()]

    sender.fail_with = DeliveryError("451 later", transient=True, smtp_code=451)
    with pytest.raises(DeliveryError, match="451 later"):
        sender.send(make_email())
    assert len(sender.sent) == 1


# -- construction ---------------------------------------------------------------------


def test_sender_from_settings_picks_the_backend(tmp_path: Path) -> None:
    file_sender = sender_from_settings(Settings(email_backend="file", mail_dir=str(tmp_path)))
    assert isinstance(file_sender, FileSender)
    assert file_sender.directory == tmp_path

    assert isinstance(sender_from_settings(Settings(email_backend="console")), ConsoleSender)

    smtp = sender_from_settings(
        Settings(
            email_backend="smtp",
            smtp_host="mail.example",
            smtp_port=587,
            smtp_username="user",
            smtp_password="pass",
            smtp_starttls=True,
            smtp_timeout=3,
        )
    )
    assert isinstance(smtp, SmtpSender)
    assert (smtp.host, smtp.port, smtp.username, smtp.password) == (
        "mail.example",
        587,
        "user",
        "pass",
    )
    assert smtp.starttls
    assert not smtp.use_ssl
    assert smtp.timeout == 3


@pytest.mark.parametrize(
    "options",
    [
        {"starttls": True, "use_ssl": True},
        {"username": "only-a-user"},
        {"username": "user", "password": "pässword"},
        {"timeout": 0},
    ],
)
def test_smtp_sender_refuses_bad_configuration(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        SmtpSender("mail.example", **options)  # type: ignore[arg-type]


def test_delivery_error_carries_its_classification() -> None:
    error = DeliveryError("550 5.1.1 mailbox unavailable", transient=False, smtp_code=550)

    assert str(error) == "550 5.1.1 mailbox unavailable"
    assert error.reason == "550 5.1.1 mailbox unavailable"
    assert (error.transient, error.permanent, error.smtp_code) == (False, True, 550)
