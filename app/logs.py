"""Logging set-up: what operators see, without patients' personal data.

Contact requests and emails are named by id only in our own messages. The one outside
source is the web server's access log, whose lines carry the client's address, the
query string (a patient's place or condition) and paths that hold a secret token (a
patient's "see or withdraw my request" link, an alert's confirm, unsubscribe and manage
links, a share link and its revoke secret): all three are removed here.
"""

from __future__ import annotations

import logging
import re

# Paths whose next segment is a secret token that opens personal data.
_TOKEN_PATHS = re.compile(r"/(?:requests|alerts/(?:confirm|unsubscribe|manage)|shared)/")
# The words that may follow a token in those paths; any other segment may be a secret (a
# share's revoke secret) or a token typed in the wrong place, and is masked.
_PATH_WORDS = frozenset({"manage", "revoke", "withdraw", "copy"})
_EMPTY_SEGMENTS = re.compile(r"/(?:\.?/)+")


def plain_path(raw: str) -> str:
    """The path as logged: no query, no fragment, and no token or secret, however the path
    was written (`//shared/T`, `/./shared/T`, `/shared//T` all reach the same page)."""
    path = _EMPTY_SEGMENTS.sub("/", raw.split("?", 1)[0].split("#", 1)[0])
    found = _TOKEN_PATHS.match(path)
    if found is None:
        return path
    rest = path[found.end() :].split("/")
    masked = ["[token]"] + [
        part if part in _PATH_WORDS or not part else "[secret]" for part in rest[1:]
    ]
    return path[: found.end()] + "/".join(masked)


class AccessLogPrivacy(logging.Filter):
    """Drop the client address, the query string and secret tokens from uvicorn's access
    log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, plain_path(str(path)), version, status)
        return True


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("uvicorn.access").addFilter(AccessLogPrivacy())
