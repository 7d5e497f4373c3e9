"""Share links: create, open with the passcode, revoke, and what erasure and purge remove.

The rules, in one place:
- A share is sealed with the patient's passcode (app/crypto.py `seal`) before any
  transaction: Argon2 is slow, and no write lock is held while it runs.
- Per client address at most `SHARE_LIMIT` shares, `EMAIL_LIMIT` emailed links and
  `OPEN_LIMIT` passcode checks; per recipient address at most `RECIPIENT_LIMIT` emailed
  links. Argon2 is costly, and emailed links must not make TrialFinder a relay.
- Opening: a try is counted before the passcode is checked, under the share row's lock
  (`SELECT … FOR UPDATE`; on SQLite the write lock), so processes running side by side
  cannot check more than `MAX_TRIES` passcodes in `TRY_WINDOW` between them. A right
  passcode takes its try back; the wrong try that makes `MAX_TRIES` locks the link for
  `LOCKED_FOR`, during which even the right passcode is answered 429.
- Revoked or expired: the sealed notes are wiped at once (revoke) or by the daily purge
  (expiry), and the link answers 410 until the row goes, `KEEP_ENDED` later.
Nothing here commits: the request owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from app import ratelimit
from app.addresses import address_key, lookup_key
from app.config import Settings
from app.crypto import seal, unseal
from app.notes.emails import SharedNotesEmail
from app.notes.models import Share
from app.outbox.email.rendering import render_email
from app.outbox.queue import Letter, enqueue
from app.studies.checklist import SECTION_NAMES, Checklist, Heading, Notes
from app.studies.models import Study

SHARE_LIMIT = ratelimit.Limit("share-client", times=10, window=dt.timedelta(hours=1))
EMAIL_LIMIT = ratelimit.Limit("share-email-client", times=5, window=dt.timedelta(days=1))
RECIPIENT_LIMIT = ratelimit.Limit("share-recipient", times=3, window=dt.timedelta(days=1))
# Right passcodes are not limited per link, so each client address may have at most this
# many passcodes checked (each one an Argon2 derivation), whatever the links.
OPEN_LIMIT = ratelimit.Limit("share-open-client", times=60, window=dt.timedelta(minutes=15))
LIMITS_TEXT = (
    "From one connection you can share up to 10 times an hour and email up to 5 links a day; "
    "one address receives at most 3 links a day."
)
MAX_TRIES = 5
TRY_WINDOW = dt.timedelta(minutes=15)
LOCKED_FOR = dt.timedelta(minutes=15)
DEFAULT_DAYS, MIN_DAYS, MAX_DAYS = 30, 1, 90
KEEP_ENDED = dt.timedelta(days=30)
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
BUNDLE_VERSION = 1


def token_key(token: str) -> str:
    """How a link's token (or a revoke secret) is stored: SHA-256, the token being random."""
    return hashlib.sha256(token.encode()).hexdigest()


def client_key(address: str) -> str:
    """The per-client limits' key: a keyed hash, never the address itself."""
    return lookup_key(f"client|{address}")


def bundle(study: Study, sheet: Checklist, notes: Notes, *, now: dt.datetime) -> dict[str, Any]:
    """What a share holds: the study, every line with its answer and note, quotes, the note.

    The lines are the checklist's own text at the time of sharing, so the reader sees what
    the patient answered even if the listing changes later.
    """
    entries: list[dict[str, Any]] = []
    for section, items in sheet.sections.items():
        entries.append({"heading": SECTION_NAMES[section], "depth": 0, "section": True})
        for item in items:
            if isinstance(item, Heading):
                entries.append({"heading": item.text, "depth": item.depth + 1})
                continue
            entry: dict[str, Any] = {"n": item.n, "text": item.text, "depth": item.depth}
            entry["kind"] = item.section
            if item.n in notes.answers:
                entry["answer"] = notes.answers[item.n]
            if notes.notes.get(item.n):
                entry["note"] = notes.notes[item.n]
            entries.append(entry)
    return {
        "v": BUNDLE_VERSION,
        "nct_id": study.nct_id,
        "title": study.brief_title,
        "shared_at": now.isoformat(),
        "lines": entries,
        "quotes": [{"text": q.text, "note": q.note} for q in notes.quotes],
        "note": notes.note,
    }


@dataclass(frozen=True)
class Prepared:
    """A share worked out before any transaction: sealed, its email written."""

    share: Share  # not yet added to a session
    token: str
    secret: str
    letter: Letter | None
    recipient_key: str | None


def prepare_share(
    content: dict[str, Any],
    *,
    passcode: str,
    days: int,
    email_to: str | None,
    settings: Settings,
    now: dt.datetime,
) -> Prepared:
    token, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)  # 192 bits each
    key = token_key(token)
    expires_at = now + dt.timedelta(days=days)
    sealed = seal(json.dumps(content).encode("utf-8"), passcode, context=key.encode("ascii"))
    recipient = address_key(email_to) if email_to else None
    share = Share(
        token_key=key,
        revoke_key=token_key(secret),
        sealed=sealed,
        created_at=now,
        expires_at=expires_at,
        email_key=recipient,
        failures=[],
        opened=0,
    )
    letter = None
    if email_to:
        base = settings.base_url.rstrip("/")
        mail = render_email(
            SharedNotesEmail(
                share_url=f"{base}/shared/{token}", expires_at=expires_at, site_url=base
            )
        )
        domain = urlsplit(settings.base_url).hostname or "localhost"
        message_id = f"<share-{secrets.token_hex(12)}@{domain}>"
        letter = Letter(
            message_id, "shared_notes", (email_to,), None, mail.subject, mail.text, mail.html
        )
    return Prepared(share, token, secret, letter, recipient)


def over_limit(
    session: Session, *, client: str, email_to: str | None, now: dt.datetime
) -> int | None:
    """Seconds to wait when this client (or recipient) is already over a limit, checked
    before the passcode is derived: a refused client costs no Argon2. None: go ahead."""
    checks = [(SHARE_LIMIT, client_key(client))]
    if email_to:
        checks += [(EMAIL_LIMIT, client_key(client)), (RECIPIENT_LIMIT, address_key(email_to))]
    waits = [ratelimit.peek(session, limit, key, now=now) for limit, key in checks]
    return max((wait for wait in waits if wait is not None), default=None)


def store_share(
    session: Session, prepared: Prepared, *, client: str, settings: Settings, now: dt.datetime
) -> Share:
    """Store the share and queue its email, in the caller's writing transaction.

    Raises ratelimit.RateLimited (storing nothing) when a limit is reached.
    """
    key = client_key(client)
    ratelimit.spend(ratelimit.hold(session, SHARE_LIMIT, key, now=now), now=now)
    if prepared.letter is not None and prepared.recipient_key is not None:
        ratelimit.spend(ratelimit.hold(session, EMAIL_LIMIT, key, now=now), now=now)
        held = ratelimit.hold(session, RECIPIENT_LIMIT, prepared.recipient_key, now=now)
        ratelimit.spend(held, now=now)
    session.add(prepared.share)
    if prepared.letter is not None:
        enqueue(session, prepared.letter, sender=settings.mail_from, now=now)
    return prepared.share


def find(session: Session, token: str, *, lock: bool = False) -> Share | None:
    """The share of a link's token; None for an unknown or malformed one."""
    if not TOKEN.fullmatch(token):
        return None
    query = select(Share).where(Share.token_key == token_key(token))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def ended(share: Share, now: dt.datetime) -> str | None:
    """ "revoked" or "expired" when the link no longer opens; None while it does."""
    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at <= now or share.sealed is None:
        return "expired"
    return None


class Locked(Exception):
    """Too many wrong passcodes: the link answers 429 for `retry_after` more seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"locked for {retry_after} s")
        self.retry_after = retry_after


def _recent(share: Share, now: dt.datetime) -> list[float]:
    start = (now - TRY_WINDOW).timestamp()
    return [t for t in share.failures if t > start]


def check_locked(share: Share, now: dt.datetime) -> None:
    """Raise Locked while the link is locked, or while its tries in the window are used up."""
    if share.locked_until is not None and share.locked_until > now:
        raise Locked(max(1, math.ceil((share.locked_until - now).total_seconds())))
    recent = _recent(share, now)
    if len(recent) >= MAX_TRIES:
        wait = recent[-MAX_TRIES] + TRY_WINDOW.total_seconds() - now.timestamp()
        raise Locked(max(1, math.ceil(wait)))


def reserve_try(share: Share, now: dt.datetime) -> float:
    """Count a try before its passcode is checked (the caller holds the row's lock).

    Raises Locked when no try is left. Returns the try's stamp, for `settle_try`.
    """
    check_locked(share, now)
    stamp = now.timestamp()
    share.failures = [*_recent(share, now), stamp]
    return stamp


def count_open(session: Session, *, client: str, now: dt.datetime) -> None:
    """Count one passcode check for this client address; ratelimit.RateLimited when over."""
    ratelimit.spend(ratelimit.hold(session, OPEN_LIMIT, client_key(client), now=now), now=now)


def cancel_try(share: Share, stamp: float) -> None:
    """Take back a try whose passcode was never checked (the process was busy)."""
    failures = list(share.failures)
    if stamp in failures:
        failures.remove(stamp)
    share.failures = failures


def settle_try(share: Share, stamp: float, *, right: bool, now: dt.datetime) -> int:
    """Record how the try went (the caller holds the row's lock again).

    A right passcode takes its try back; a wrong one stays counted, and the one that makes
    MAX_TRIES locks the link for LOCKED_FOR. Returns the tries left.
    """
    if right:
        cancel_try(share, stamp)
        share.opened += 1
        return MAX_TRIES - len(_recent(share, now))
    left = MAX_TRIES - len(_recent(share, now))
    if left <= 0:
        share.locked_until = now + LOCKED_FOR
    return max(0, left)


def open_notes(sealed: str, token: str, passcode: str) -> dict[str, Any]:
    """The shared notes; WrongPasscode when the passcode does not open them."""
    plain = unseal(sealed, passcode, context=token_key(token).encode("ascii"))
    content: dict[str, Any] = json.loads(plain)
    return content


class WrongSecret(Exception):
    """The revoke secret does not belong to this link."""


def owns(share: Share, secret: str) -> bool:
    """Whether `secret` is this link's revoke secret (the page after sharing holds it)."""
    return secrets.compare_digest(token_key(secret), share.revoke_key)


def revoke(share: Share, secret: str, *, now: dt.datetime) -> bool:
    """Withdraw the link and wipe its notes; False when it had already ended.

    Raises WrongSecret for a secret that is not this link's.
    """
    if not owns(share, secret):
        raise WrongSecret
    if share.revoked_at is not None:
        return False
    share.revoked_at = now
    share.sealed = None
    return True


def wipe_expired(session: Session, share_id: int, *, now: dt.datetime) -> None:
    """Wipe the notes of this link if it has expired (the daily purge does it for all)."""
    session.execute(
        update(Share)
        .where(Share.id == share_id, Share.expires_at <= now)
        .values(sealed=None)
        .execution_options(synchronize_session=False)
    )


def revoke_emailed_to(session: Session, email_key: str, *, now: dt.datetime) -> int:
    """Revoke every live link that was emailed to this address (erasure), and forget the
    address's hash on all of them. Returns how many were revoked."""
    revoked = session.execute(
        update(Share)
        .where(Share.email_key == email_key, Share.revoked_at.is_(None))
        .values(revoked_at=now, sealed=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Share)
        .where(Share.email_key == email_key)
        .values(email_key=None)
        .execution_options(synchronize_session=False)
    )
    return int(revoked.rowcount or 0)  # type: ignore[attr-defined]


def purge_shares(session: Session, *, now: dt.datetime) -> tuple[int, int]:
    """Wipe the notes of expired links; delete links ended more than KEEP_ENDED ago.

    Returns (wiped, deleted).
    """
    wiped = session.execute(
        update(Share)
        .where(Share.expires_at <= now, Share.sealed.is_not(None))
        .values(sealed=None)
        .execution_options(synchronize_session=False)
    )
    cutoff = now - KEEP_ENDED
    deleted = session.execute(
        delete(Share)
        .where(or_(Share.expires_at <= cutoff, Share.revoked_at <= cutoff))
        .execution_options(synchronize_session=False)
    )
    return int(wiped.rowcount or 0), int(deleted.rowcount or 0)  # type: ignore[attr-defined]
