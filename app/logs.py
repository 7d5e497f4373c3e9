"""Logging set-up: what operators see, without patients' personal data.

Contact requests and emails are named by id only in our own messages. The one outside
source is the web server's access log, whose lines carry the client's address and the
query string (a patient's place or condition): both are removed here.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit


class AccessLogPrivacy(logging.Filter):
    """Drop the client address and the query string from uvicorn's access log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            record.args = ("-", method, urlsplit(str(path)).path, version, status)
        return True


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("uvicorn.access").addFilter(AccessLogPrivacy())
