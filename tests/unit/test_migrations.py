"""Migrations are the schema's only source: they build it, match the models, and undo."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

import app.models  # noqa: F401
from app.cli import alembic_config
from app.config import Settings
from app.db import Base, include_object


def test_single_head(settings: Settings) -> None:
    assert len(ScriptDirectory.from_config(alembic_config(settings)).get_heads()) == 1


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_up_again(settings: Settings, engine: Engine) -> None:
    config = alembic_config(settings)
    command.downgrade(config, "base")
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    command.upgrade(config, "head")
    assert {"studies", "sites", "search_terms"} <= set(inspect(engine).get_table_names())


def test_personal_data_migration_encrypts_existing_rows_and_undoes_it(
    settings: Settings, engine: Engine
) -> None:
    """0006 on rows written in plain by the code before it: up encrypts, down decrypts,
    up again encrypts, and what the app reads back is what the patient typed."""
    import hashlib
    import json

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from app.contact.models import ContactRequest
    from app.crypto import vault
    from app.outbox.models import OutboxMessage

    config = alembic_config(settings)
    command.downgrade(config, "0005")
    old_dedup = hashlib.sha256(b"ines@example.org|0|0").hexdigest()
    reply = "550 5.1.1 <site@example.org>: no such user"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO contact_requests (id, public_id, nct_id, study_title, site_name,"
                " first_name, last_name, email, phone, language, consent_at, created_at,"
                " dedup_key, dedup_day, routing, routed_to) VALUES (1, 'pub-1', 'NCT00000001',"
                " 'A study', 'A clinic', 'Inês', 'Évora', 'Ines@Example.org', '+351211234567',"
                " 'pt', '2026-11-01 10:00:00+00:00', '2026-11-01 10:00:00+00:00', :dedup, 1,"
                " 'site', 'site@example.org')"
            ),
            {"dedup": old_dedup},
        )
        for id_, status, body in ((1, "queued", "Dear Inês"), (2, "sent", "Hello Inês")):
            conn.execute(
                text(
                    "INSERT INTO outbox_messages (id, message_id, kind, contact_request_id,"
                    " sender, recipients, reply_to, subject, body_text, body_html, status,"
                    " attempts, next_attempt_at, history, created_at) VALUES (:id, :mid,"
                    " 'contact_patient', 1, 'TrialFinder <no-reply@localhost>', :to,"
                    " 'site@example.org', 'Your request', :body, NULL, :status, 1,"
                    " '2026-11-01 10:00:00+00:00', :history, '2026-11-01 10:00:00+00:00')"
                ),
                {
                    "id": id_,
                    "mid": f"<m{id_}@localhost>",
                    "to": json.dumps(["ines@example.org"]),
                    "body": body,
                    "status": status,
                    "history": json.dumps([{"outcome": "retry", "error": reply}]),
                },
            )
    try:
        for step in ("up", "down", "up"):
            if step == "up":
                command.upgrade(config, "head")
            else:
                command.downgrade(config, "0005")
            with engine.connect() as conn:
                raw = conn.execute(
                    text("SELECT first_name, email, dedup_key FROM contact_requests")
                ).one()
                bodies: dict[str, str | None] = dict(
                    conn.execute(text("SELECT status, body_text FROM outbox_messages")).all()
                )
                history = conn.execute(
                    text("SELECT history FROM outbox_messages WHERE status = 'queued'")
                ).scalar_one()
            if step == "down":
                assert (raw.first_name, raw.email, raw.dedup_key) == (
                    "Inês",
                    "Ines@Example.org",
                    old_dedup,
                )
                assert bodies["queued"] == "Dear Inês"
                continue
            assert "Inês" not in raw.first_name
            assert raw.email.startswith("gAAAA")
            assert raw.dedup_key == vault().lookup("ines@example.org|0|0")
            assert (bodies["queued"] or "").startswith("gAAAA")
            assert bodies["sent"] is None  # delivered: its content is not kept
            assert "site@example.org" not in str(history)
            with Session(engine) as session:
                request = session.get(ContactRequest, 1)
                assert request is not None
                assert (request.first_name, request.email, request.language) == (
                    "Inês",
                    "Ines@Example.org",
                    "pt",
                )
                assert request.email_key == vault().lookup("ines@example.org")
                assert request.consent_version == "2026-11-27"
                queued = session.get(OutboxMessage, 1)
                assert queued is not None
                assert (queued.body_text, queued.recipients) == ("Dear Inês", ["ines@example.org"])
    finally:
        command.upgrade(config, "head")
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM outbox_messages"))
            conn.execute(text("DELETE FROM contact_requests"))
