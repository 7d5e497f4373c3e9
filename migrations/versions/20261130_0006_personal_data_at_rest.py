"""Personal data at rest: encrypt contact requests and queued mail, key lookups by HMAC.

Encrypts the rows that exist (names, email, phone and language of contact requests; the
recipients, Reply-To, subject and bodies of unsent mail), removes the content of mail
already delivered, recomputes the duplicate-check keys as keyed hashes, and adds the
tables of key check values, daily jobs and anonymous counts. The keys are the process's
(app/crypto.py): `trialfinder db upgrade` installs those of the settings. Downgrading
decrypts again; the content of delivered mail stays removed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from app import crypto
from app.addresses import identity, scrub
from app.contact.consent import FIRST_VERSION
from app.keycheck import check_values

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERSONAL = ("first_name", "last_name", "email", "phone", "language")
MAIL = ("reply_to", "subject", "body_text", "body_html")
OLD_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "first_name": sa.String(length=100),
    "last_name": sa.String(length=100),
    "email": sa.String(length=254),
    "phone": sa.String(length=20),
    "language": sa.String(length=8),
}


def _dedup_source(email: str, study_id: int | None, site_id: int | None) -> str:
    return f"{email.casefold()}|{study_id or 0}|{site_id or 0}"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _scrub_history(history: Any) -> str:
    entries = _json(history) or []
    for entry in entries:
        if entry.get("error"):
            entry["error"] = scrub(entry["error"])
    return json.dumps(entries)


def upgrade() -> None:
    keys = crypto.vault()
    op.create_table(
        "key_checks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_key_checks")),
    )
    op.create_table(
        "daily_jobs",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_by", sa.String(length=100), nullable=True),
        sa.Column("last_result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_daily_jobs")),
    )
    op.create_table(
        "contact_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("nct_id", sa.String(length=16), nullable=False),
        sa.Column("site_name", sa.Text(), nullable=False),
        sa.Column("routing", sa.String(length=16), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "nct_id", "site_name", "routing", name=op.f("pk_contact_counts")
        ),
    )

    with op.batch_alter_table("contact_requests") as batch:
        for column in PERSONAL:
            batch.alter_column(column, type_=sa.Text(), existing_type=OLD_TYPES[column])
        batch.add_column(sa.Column("email_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("consent_version", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("access_key", sa.String(length=64), nullable=True))
    with op.batch_alter_table("outbox_messages") as batch:
        batch.alter_column(
            "recipients",
            type_=sa.Text(),
            existing_type=sa.JSON(),
            nullable=True,
            postgresql_using="recipients::text",
        )
        batch.alter_column("reply_to", type_=sa.Text(), existing_type=sa.String(length=320))
        batch.alter_column("subject", existing_type=sa.Text(), nullable=True)
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=True)
        batch.add_column(sa.Column("recipient_key", sa.String(length=64), nullable=True))

    bind = op.get_bind()
    requests = bind.execute(
        sa.text(f"SELECT id, study_id, site_id, {', '.join(PERSONAL)} FROM contact_requests")
    ).mappings()
    for row in list(requests):
        values = {c: None if row[c] is None else keys.encrypt(row[c]) for c in PERSONAL}
        bind.execute(
            sa.text(
                "UPDATE contact_requests SET "
                + ", ".join(f"{c} = :{c}" for c in PERSONAL)
                + ", email_key = :email_key, dedup_key = :dedup_key,"
                " consent_version = :version WHERE id = :id"
            ),
            {
                **values,
                "email_key": keys.lookup(identity(row["email"])),
                "dedup_key": keys.lookup(
                    _dedup_source(row["email"], row["study_id"], row["site_id"])
                ),
                "version": FIRST_VERSION,
                "id": row["id"],
            },
        )
    messages = bind.execute(
        sa.text(
            "SELECT id, status, recipients, history, last_error, "
            f"{', '.join(MAIL)} FROM outbox_messages"
        )
    ).mappings()
    for row in list(messages):
        recipients = _json(row["recipients"]) or []
        delivered = row["status"] == "sent"
        content: dict[str, str | None] = {
            c: None if delivered or row[c] is None else keys.encrypt(row[c]) for c in MAIL
        }
        bind.execute(
            sa.text(
                "UPDATE outbox_messages SET recipients = :recipients, "
                + ", ".join(f"{c} = :{c}" for c in MAIL)
                + ", recipient_key = :recipient_key, history = :history,"
                " last_error = :last_error WHERE id = :id"
            ),
            {
                **content,
                "recipients": None if delivered else keys.encrypt(json.dumps(recipients)),
                "recipient_key": keys.lookup(identity(recipients[0] if recipients else "")),
                "history": _scrub_history(row["history"]),
                "last_error": scrub(row["last_error"]) if row["last_error"] else None,
                "id": row["id"],
            },
        )

    with op.batch_alter_table("contact_requests") as batch:
        batch.alter_column("email_key", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("consent_version", existing_type=sa.String(length=16), nullable=False)
        batch.create_index(batch.f("ix_contact_requests_email_key"), ["email_key"], unique=False)
        batch.create_unique_constraint(batch.f("uq_contact_requests_access_key"), ["access_key"])
    with op.batch_alter_table("outbox_messages") as batch:
        batch.alter_column("recipient_key", existing_type=sa.String(length=64), nullable=False)
        batch.create_index(
            batch.f("ix_outbox_messages_recipient_key"), ["recipient_key"], unique=False
        )
    checks = check_values(keys)
    for name, value in checks.items():
        bind.execute(
            sa.text("INSERT INTO key_checks (name, value) VALUES (:name, :value)"),
            {"name": name, "value": value},
        )


def downgrade() -> None:
    keys = crypto.vault()
    bind = op.get_bind()
    requests = bind.execute(
        sa.text(f"SELECT id, study_id, site_id, {', '.join(PERSONAL)} FROM contact_requests")
    ).mappings()
    for row in list(requests):
        values = {c: None if row[c] is None else keys.decrypt(row[c]) for c in PERSONAL}
        source = _dedup_source(values["email"] or "", row["study_id"], row["site_id"])
        bind.execute(
            sa.text(
                "UPDATE contact_requests SET "
                + ", ".join(f"{c} = :{c}" for c in PERSONAL)
                + ", dedup_key = :dedup_key WHERE id = :id"
            ),
            {**values, "dedup_key": hashlib.sha256(source.encode()).hexdigest(), "id": row["id"]},
        )
    messages = bind.execute(
        sa.text(f"SELECT id, recipients, {', '.join(MAIL)} FROM outbox_messages")
    ).mappings()
    for row in list(messages):
        content = {c: None if row[c] is None else keys.decrypt(row[c]) for c in MAIL}
        recipients = "[]" if row["recipients"] is None else keys.decrypt(row["recipients"])
        bind.execute(
            sa.text(
                "UPDATE outbox_messages SET recipients = :recipients, "
                + ", ".join(f"{c} = :{c}" for c in MAIL)
                + " WHERE id = :id"
            ),
            {
                **content,
                "subject": content["subject"] or "",
                "body_text": content["body_text"] or "",
                "recipients": recipients,
                "id": row["id"],
            },
        )
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_index(batch.f("ix_outbox_messages_recipient_key"))
        batch.drop_column("recipient_key")
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=False)
        batch.alter_column("subject", existing_type=sa.Text(), nullable=False)
        batch.alter_column("reply_to", type_=sa.String(length=320), existing_type=sa.Text())
        batch.alter_column(
            "recipients",
            type_=sa.JSON(),
            existing_type=sa.Text(),
            nullable=False,
            postgresql_using="recipients::json",
        )
    with op.batch_alter_table("contact_requests") as batch:
        batch.drop_constraint(batch.f("uq_contact_requests_access_key"), type_="unique")
        batch.drop_index(batch.f("ix_contact_requests_email_key"))
        batch.drop_column("access_key")
        batch.drop_column("consent_version")
        batch.drop_column("email_key")
        for column in PERSONAL:
            batch.alter_column(column, type_=OLD_TYPES[column], existing_type=sa.Text())
    op.drop_table("contact_counts")
    op.drop_table("daily_jobs")
    op.drop_table("key_checks")
