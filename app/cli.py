"""The `trialfinder` command line; the README lists its commands."""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from email_validator import EmailNotValidError
from pydantic import ValidationError
from sqlalchemy import func, select

from app import crypto
from app.addresses import mail_address
from app.alerts.digest import send_alerts
from app.alerts.service import pause_after_bounce
from app.config import Settings, get_settings
from app.ctgov.importer import ImportReport, RawRecord, import_records, read_records
from app.daily import daily_jobs, purge_everything
from app.db import empty_write_ahead_log, make_engine, session_factory, write_transaction, writing
from app.keycheck import check_keys
from app.logs import configure_logging
from app.outbox.email.senders import sender_from_settings
from app.outbox.worker import Worker, start_in_thread
from app.resources import MIGRATIONS_DIR


def alembic_config(settings: Settings) -> Config:
    # Built here rather than read from alembic.ini, which serves `alembic revision` in a
    # checkout (file names, the ruff hook) and which an installed package does not carry.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade_database(settings: Settings) -> None:
    """Migrate to the newest schema; migrations that encrypt use these settings' keys."""
    crypto.install(settings.vault())
    command.upgrade(alembic_config(settings), "head")


class DatabaseNotReady(Exception):
    """The schema is not the one this code needs, and this process may not migrate it."""


def prepare_database(settings: Settings) -> None:
    """Migrate, except in production, where only check that the schema is the newest;
    then check that the keys open the data (KeyProblem if not).

    In production, migrations are their own step: the operator runs `trialfinder db upgrade`
    once per release, then starts web processes and workers. They start many at a time, on
    many hosts, and must neither race each other to change the shared schema nor need the
    rights to; one that finds another schema than its own refuses to start.
    """
    if settings.env != "production":
        upgrade_database(settings)
        check_keys(session_factory(settings), crypto.install(settings.vault()))
        return
    needed = set(ScriptDirectory.from_config(alembic_config(settings)).get_heads())
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    if current != needed:
        found = f"at revision {', '.join(sorted(current))}" if current else "not migrated yet"
        raise DatabaseNotReady(
            f"the database schema is {found}; this version needs revision "
            f"{', '.join(sorted(needed))}. In production, migrations are their own step: "
            "run `trialfinder db upgrade`, then start this again."
        )
    check_keys(session_factory(settings), crypto.install(settings.vault()))


class _Progress:
    """A one-line progress counter on a terminal; silent when output is redirected."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, report: ImportReport) -> None:
        if self.enabled:
            print(
                f"\r  {report.processed:,} studies read ({report.summary()})",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def done(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def run_import(settings: Settings, records: Iterable[RawRecord], *, quiet: bool) -> ImportReport:
    """Import records in batches, committing each so a long import keeps its progress."""
    Session = session_factory(settings)
    progress = _Progress(enabled=not quiet and sys.stderr.isatty())
    now = dt.datetime.now(dt.UTC)
    with Session() as session:
        writing(session)

        def commit(report: ImportReport) -> None:
            session.commit()
            writing(session)
            progress(report)

        report = import_records(session, records, now=now, after_batch=commit)
        session.commit()
    progress.done()
    return report


def _print_report(report: ImportReport) -> int:
    for rejection in report.rejected:
        print(f"rejected: {rejection}", file=sys.stderr)
    print(report.summary())
    return 1 if report.rejected else 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    prepare_database(settings)
    report = run_import(settings, read_records(args.paths), quiet=args.quiet)
    return _print_report(report)


def cmd_fetch(args: argparse.Namespace, settings: Settings) -> int:
    """The same import, fed by the live ClinicalTrials.gov API v2."""
    from app.ctgov.client import FetchError, FetchQuery, fetch_records

    if not args.condition and not args.nct:
        print("give --condition TEXT or --nct ID...", file=sys.stderr)
        return 2
    try:
        query = FetchQuery(
            condition=args.condition,
            nct_ids=tuple(args.nct or ()),
            statuses=tuple(
                s.strip().upper() for s in (args.status or []) for s in s.split(",") if s.strip()
            ),
            max_studies=args.max,
        )
        prepare_database(settings)
        report = run_import(settings, fetch_records(settings, query), quiet=args.quiet)
    except (FetchError, ValueError) as exc:
        # Batches committed before the error stay imported; the message says what failed.
        print(f"fetch failed: {exc}", file=sys.stderr)
        return 1
    return _print_report(report)


def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo.generator import generate_studies
    from app.studies.models import Study

    prepare_database(settings)
    if args.remove:
        return _remove_demo_data(settings)
    if args.if_empty:
        with session_factory(settings)() as session:
            if session.scalar(select(func.count()).select_from(Study)):
                print("the database already holds studies; no demo data loaded")
                return 0
    records = (
        RawRecord("demo-data", f"index {i}", study)
        for i, study in enumerate(generate_studies(args.studies, seed=args.seed))
    )
    return _print_report(run_import(settings, records, quiet=args.quiet))


def _remove_demo_data(settings: Settings) -> int:
    from app.admin.auth import audit
    from app.demo.removal import remove_demo_studies

    now = dt.datetime.now(dt.UTC)
    sessions = session_factory(settings)
    with sessions() as session, write_transaction(session):
        removed = remove_demo_studies(session)
        if removed.studies:
            audit(
                session,
                actor="command line",
                action="demo.remove",
                now=now,
                studies=removed.studies,
                sites=removed.sites,
            )
    print(removed)
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "upgrade":
        upgrade_database(settings)
        print("database is at the newest schema")
    return 0


def make_worker(settings: Settings) -> Worker:
    return Worker(
        session_factory(settings),
        sender_from_settings(settings),
        settings,
        daily_jobs=daily_jobs(settings),
        on_bounce=pause_after_bounce,
    )


def cmd_send_alerts(args: argparse.Namespace, settings: Settings) -> int:
    """Queue today's alert digests now (the workers also do this once a day)."""
    prepare_database(settings)
    now = dt.datetime.now(dt.UTC)
    report = send_alerts(
        session_factory(settings), settings=settings, now=now, dry_run=args.dry_run
    )
    prefix = "dry run, nothing queued: " if args.dry_run else ""
    print(f"{prefix}{report}")
    return 0


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    """Delete personal data older than TRIALFINDER_RETENTION_DAYS now (the workers also do
    this once a day)."""
    prepare_database(settings)
    now = dt.datetime.now(dt.UTC)
    summary = purge_everything(session_factory(settings), settings=settings, now=now)
    print(f"older than {settings.retention_days} days: {summary}")
    return 0


def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    """Remove everything about one person, found by email address, and report it."""
    from app.admin.auth import audit
    from app.privacy.erasure import erase_person

    try:
        mail_address(args.email)
    except EmailNotValidError as error:
        print(f"trialfinder: {args.email!r} is not an email address: {error}", file=sys.stderr)
        return 2
    prepare_database(settings)
    now = dt.datetime.now(dt.UTC)
    sessions = session_factory(settings)
    with sessions() as session, write_transaction(session):
        removed = erase_person(session, args.email, settings=settings, now=now)
        # The audit log records that an erasure happened, never whose.
        audit(
            session,
            actor="command line",
            action="privacy.erase",
            now=now,
            removed=removed.as_dict(),
        )
    empty_write_ahead_log(sessions)
    print(f"erased: {removed}")
    return 0


def cmd_rotate_key(args: argparse.Namespace, settings: Settings) -> int:
    """Re-encrypt everything under the newest of TRIALFINDER_DATA_KEY's keys."""
    from app.rotation import rotate_all

    prepare_database(settings)
    keys = crypto.vault()
    counts = rotate_all(session_factory(settings), keys)
    total = sum(counts.values())
    detail = ", ".join(f"{table} {n}" for table, n in counts.items())
    print(f"re-encrypted {total} value(s) under the newest key ({detail})")
    if len(keys.data_keys) > 1:
        print("the older keys can now be removed from TRIALFINDER_DATA_KEY")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from app.main import create_app

    prepare_database(settings)
    stop = None
    if args.with_worker:
        _, stop = start_in_thread(make_worker(settings))
    # Several processes (one per core) share the port; each builds its app from the
    # environment, with our logging set-up and its access-log privacy filter.
    app: Any = create_app(settings) if args.workers == 1 else "app.main:logged_app"
    try:
        uvicorn.run(
            app,
            factory=args.workers > 1,
            workers=args.workers,
            host=args.host,
            port=args.port,
            proxy_headers=True,
            log_config=None,  # keep our logging set-up, with its access-log privacy filter
        )
    finally:
        if stop is not None:
            stop.set()
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    prepare_database(settings)
    worker = make_worker(settings)
    if args.once:
        print(worker.run_once())
        return 0
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    worker.run_forever(stop)
    return 0


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:
    """Operators' view of the email queue until the admin area exists: status and retry."""
    from app.contact.models import ContactRequest
    from app.outbox.models import FAILED, OutboxMessage
    from app.outbox.queue import retry_failed

    prepare_database(settings)
    with session_factory(settings)() as session:
        writing(session)
        if args.action == "retry":
            query = select(OutboxMessage).where(OutboxMessage.status == FAILED)
            if args.ids:
                query = query.where(OutboxMessage.id.in_(args.ids))
            now = dt.datetime.now(dt.UTC)
            messages = session.scalars(query).all()
            for message in messages:
                retry_failed(session, message, now=now)
            session.commit()
            print(f"{len(messages)} failed message(s) queued again")
            return 0
        counts = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
        print("email queue: " + (", ".join(f"{n} {status}" for status, n in counts) or "empty"))
        for message in session.scalars(select(OutboxMessage).where(OutboxMessage.status == FAILED)):
            print(f"  failed #{message.id} ({message.kind}, {message.attempts} attempts):")
            print(f"    {message.last_error}")
        flagged = session.scalars(
            select(ContactRequest.id).where(ContactRequest.routing == "flagged")
        ).all()
        if flagged:
            print(f"contact requests with no address (flagged): {', '.join(map(str, flagged))}")
    return 0


_NO_TERMINAL = (
    "trialfinder create-admin: no terminal to ask for a password: use --password-stdin, "
    "e.g. `printf '%s\\n' \"$PASSWORD\" | trialfinder create-admin {email} --password-stdin`"
)


def cmd_create_admin(args: argparse.Namespace, settings: Settings) -> int:
    """Create an administrator, or set a new password for one (ending their sessions)."""
    import getpass

    from app.admin.auth import MIN_PASSWORD_LENGTH, audit, create_admin

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        # Without a terminal (a script, a container run without -t, a pipe), getpass would
        # fall back to reading standard input, then fail on its end with a traceback, or
        # take whatever was piped in unasked. Say how to give the password instead.
        if sys.stdin is None or not sys.stdin.isatty():  # None: started with stdin closed
            print(_NO_TERMINAL.format(email=shlex.quote(args.email)), file=sys.stderr)
            return 2
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password again: ")
        except EOFError:
            print(_NO_TERMINAL.format(email=shlex.quote(args.email)), file=sys.stderr)
            return 2
        if again != password:
            print("the passwords differ; nothing changed", file=sys.stderr)
            return 1
    if len(password) < MIN_PASSWORD_LENGTH:
        print(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", file=sys.stderr)
        return 1
    prepare_database(settings)
    now = dt.datetime.now(dt.UTC)
    with session_factory(settings)() as session:
        writing(session)
        try:
            user = create_admin(session, email=args.email, password=password, now=now)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        audit(session, actor="command line", action="admin.create", now=now, target=user.email)
        session.commit()
    print(f"administrator {user.email} can now log in at /admin")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trialfinder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="serve the web site (migrating first, except in production)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--with-worker", action="store_true", help="also deliver queued email in this process"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        choices=range(1, 65),
        metavar="N",
        help="web processes sharing the port (default 1; about one per core)",
    )
    serve.set_defaults(func=cmd_serve)

    work = sub.add_parser("worker", help="deliver queued email")
    work.add_argument(
        "--once", action="store_true", help="deliver everything due now, print counts, exit"
    )
    work.set_defaults(func=cmd_worker)

    outbox = sub.add_parser("outbox", help="show the email queue, or queue failed email again")
    outbox.add_argument("action", choices=["status", "retry"])
    outbox.add_argument(
        "ids",
        nargs="*",
        type=int,
        metavar="ID",
        help="with retry: these failed messages (default: every failed one)",
    )
    outbox.set_defaults(func=cmd_outbox)

    imp = sub.add_parser("import-ctgov", help="import ClinicalTrials.gov API v2 JSON files")
    imp.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="JSON or JSON Lines file, directory, or - for standard input",
    )
    imp.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    imp.set_defaults(func=cmd_import)

    fetch = sub.add_parser("fetch-ctgov", help="import studies from the ClinicalTrials.gov API")
    fetch.add_argument("--condition", metavar="TEXT")
    fetch.add_argument("--nct", nargs="+", metavar="ID")
    fetch.add_argument(
        "--status",
        action="append",
        metavar="STATUS",
        help="e.g. RECRUITING; repeat or comma-separate",
    )
    fetch.add_argument("--max", type=int, metavar="N", help="stop after N studies")
    fetch.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    fetch.set_defaults(func=cmd_fetch)

    demo = sub.add_parser("demo-data", help="generate and import fictional demo studies")
    demo.add_argument("--studies", type=int, default=1000, metavar="N")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    once = demo.add_mutually_exclusive_group()
    once.add_argument(
        "--if-empty", action="store_true", help="only when the database holds no studies yet"
    )
    once.add_argument(
        "--remove",
        action="store_true",
        help="remove the demo studies (NCT9...) and their sites instead; real studies and "
        "contact requests stay",
    )
    demo.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    demo.set_defaults(func=cmd_demo_data)

    admin = sub.add_parser("create-admin", help="create an administrator (or reset a password)")
    admin.add_argument("email", metavar="EMAIL")
    admin.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    admin.set_defaults(func=cmd_create_admin)

    alerts_cmd = sub.add_parser(
        "send-alerts", help="queue the alert digests now (the workers do it once a day)"
    )
    alerts_cmd.add_argument(
        "--dry-run", action="store_true", help="work out every digest and print counts; send none"
    )
    alerts_cmd.set_defaults(func=cmd_send_alerts)

    purge_cmd = sub.add_parser(
        "purge", help="delete personal data older than TRIALFINDER_RETENTION_DAYS"
    )
    purge_cmd.set_defaults(func=cmd_purge)

    erase = sub.add_parser(
        "erase", help="remove everything about one person (requests, their email), with a report"
    )
    erase.add_argument("email", metavar="EMAIL")
    erase.set_defaults(func=cmd_erase)

    rotate = sub.add_parser(
        "rotate-key", help="re-encrypt stored personal data under the newest data key"
    )
    rotate.set_defaults(func=cmd_rotate_key)

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(func=cmd_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            print(
                f"trialfinder: settings: {error['msg'].removeprefix('Value error, ')}",
                file=sys.stderr,
            )
        return 1
    try:
        status: int = args.func(args, settings)
    except (DatabaseNotReady, crypto.KeyProblem) as exc:
        print(f"trialfinder: {exc}", file=sys.stderr)
        if isinstance(exc, crypto.KeyProblem) and not (settings.data_key and settings.lookup_key):
            print(
                f"trialfinder: the keys not set in the environment were read from (or made in) "
                f"{settings.key_dir}/data.key and {settings.key_dir}/lookup.key",
                file=sys.stderr,
            )
        return 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
