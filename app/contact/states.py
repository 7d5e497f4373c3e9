"""Where a contact request stands, as administrators see it: one rule for lists and pages.

The state is a SQL expression over the request and its emails, so the list filter, the
badge on each row and the request's own page all read the same value: they cannot
disagree about a request that is both flagged and has a failed email, say.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, case, exists, select

from app.contact.models import ContactRequest
from app.outbox.models import FAILED, QUEUED, RESOLVED, SENDING, OutboxMessage


class RequestState(StrEnum):
    FAILED = "failed"  # an email failed for good: an administrator must look
    FLAGGED = "flagged"  # no address to send it to: an administrator must route it
    PENDING = "pending"  # emails queued or being sent
    RESOLVED = "resolved"  # an email failed and an administrator closed it unsent
    SENT = "sent"  # every email delivered


def request_state() -> ColumnElement[str]:
    """The state of `ContactRequest` rows, the first that applies in RequestState's order."""
    emails = select(OutboxMessage.id).where(OutboxMessage.contact_request_id == ContactRequest.id)
    return case(
        (exists(emails.where(OutboxMessage.status == FAILED)), RequestState.FAILED.value),
        (ContactRequest.routing == "flagged", RequestState.FLAGGED.value),
        (
            exists(emails.where(OutboxMessage.status.in_([QUEUED, SENDING]))),
            RequestState.PENDING.value,
        ),
        (exists(emails.where(OutboxMessage.status == RESOLVED)), RequestState.RESOLVED.value),
        else_=RequestState.SENT.value,
    )
