"""Logging set-up: what operators see, without patients' personal data.

Contact requests and emails are named by id only in our own messages. The one outside
source is the web server's access log, whose lines carry the client's address, the
query string (a patient's place or condition) and paths that hold a secret token (a
patient's "see or withdraw my request" link, an alert's confirm, unsubscribe and manage
links): all three are removed here.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

# Paths whose next segment is a secret token that opens personal data.
_TOKEN_PATHS = re.compile(r"^(/requests/|/alerts/(?:confirm|unsubscribe|manage)/|/shared/)[^/]+")
# A share's page after sharing carries the revoke secret too.
_SHARE_SECRET = re.compile(r"^(/shared/\[token\]/manage/)[^/]+")


class AccessLogPrivacy(logging.Filter):
    """Drop the client address, the query string and secret tokens from uvicorn's access
    log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            plain = _TOKEN_PATHS.sub(r"\1[token]", urlsplit(str(path)).path)
            plain = _SHARE_SECRET.sub(r"\1[secret]", plain)
            record.args = ("-", method, plain, version, status)
        return True


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("uvicorn.access").addFilter(AccessLogPrivacy())
