"""Fetch studies from the live ClinicalTrials.gov API v2, for `trialfinder fetch-ctgov`.

This module owns the network side of the import: it asks `GET {base}/studies` for the
studies matching a condition or a list of NCT IDs, follows `nextPageToken` page by page,
and yields every study as a `RawRecord` for the same importer that reads files, so a
fetched study is checked and stored exactly like an imported one.

The network is where things go wrong, so this is where they are handled: every request
has connect and read timeouts; connection errors, timeouts, HTTP 429 and 5xx are retried
with exponential backoff (honouring `Retry-After`); any other failure, and a reply that is
not the JSON page the API documents, ends the fetch with a `FetchError` whose one-line
message says what was asked, what came back and after how many tries.

API v2 facts relied on (OpenAPI description `ctg-oas-v2.yaml`, API version 2.0.5):
`filter.ids` and `filter.overallStatus` take comma- or pipe-separated lists; `pageSize` is
coerced down to 1,000 and may differ from page to page; the last page has no
`nextPageToken` and a page may have an empty `studies` array; every later page must repeat
the first page's parameters; `GET /studies/{nctId}` answers 404 for an unknown study and a
301 redirect for an alias (`nctIdAliases`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from app.config import Settings
from app.ctgov.importer import RawRecord
from app.studies.rules import NCT_ID, STATUSES

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 1000  # the API coerces larger page sizes down to this
IDS_PER_REQUEST = 100  # NCT IDs per `filter.ids` request: keeps the URL short
RETRY_AFTER_CAP = 60.0  # seconds; a longer Retry-After is not waited out in full
CONNECT_TIMEOUT_CAP = 10.0
EXCERPT_CHARS = 200
URL_CHARS = 160
USER_AGENT = "TrialFinder/0.1 (clinical-trial finder; python-httpx)"
NOT_FOUND = "not found on ClinicalTrials.gov (no study has this NCT ID)"
# Failures worth another try: the network or the server, not the request.
_TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class FetchError(Exception):
    """The fetch could not go on; the message is one line for the operator."""

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


@dataclass(frozen=True)
class FetchQuery:
    """What to fetch: studies for a condition, or these NCT IDs (both: the intersection)."""

    condition: str | None = None
    nct_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    max_studies: int | None = None  # stop after this many
    page_size: int = 100

    def __post_init__(self) -> None:
        if not (self.condition and self.condition.strip()) and not self.nct_ids:
            raise ValueError("give a condition or at least one NCT ID to fetch")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        if self.max_studies is not None and self.max_studies < 1:
            raise ValueError("max_studies must be at least 1")


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _checked_ids(nct_ids: Sequence[str]) -> list[str]:
    """The NCT IDs upper-cased and without repeats; FetchError names any malformed one."""
    ids = [value.strip().upper() for value in nct_ids]
    bad = [value for value, id_ in zip(nct_ids, ids, strict=True) if not NCT_ID.match(id_)]
    if bad:
        raise FetchError(
            f"not an NCT ID (NCT followed by 8 digits): {', '.join(map(repr, bad))}; "
            "nothing was fetched"
        )
    return list(dict.fromkeys(ids))


def _checked_statuses(statuses: Sequence[str]) -> list[str]:
    wanted = [value.strip().upper().replace(" ", "_") for value in statuses]
    unknown = [
        value for value, status in zip(statuses, wanted, strict=True) if status not in STATUSES
    ]
    if unknown:
        raise FetchError(
            f"unknown status {', '.join(map(repr, unknown))}; use one of {', '.join(STATUSES)}"
        )
    return list(dict.fromkeys(wanted))


def _nct_ids_of(study: Any) -> tuple[str | None, set[str]]:
    """A study's NCT ID and every ID it answers to (its own and its aliases)."""
    ident = study.get("protocolSection", {}) if isinstance(study, dict) else {}
    ident = ident.get("identificationModule", {}) if isinstance(ident, dict) else {}
    if not isinstance(ident, dict):
        return None, set()
    nct_id = ident.get("nctId")
    nct_id = nct_id.strip().upper() if isinstance(nct_id, str) else None
    aliases = ident.get("nctIdAliases")
    names = (
        {a.strip().upper() for a in aliases if isinstance(a, str)}
        if isinstance(aliases, list)
        else set()
    )
    if nct_id:
        names.add(nct_id)
    return nct_id, names


def _describe_error(exc: httpx.HTTPError) -> str:
    """ "ReadTimeout (timed out)": the exception's class, and its text when it has one."""
    text = _excerpt(str(exc), 120)
    return type(exc).__name__ + (f" ({text})" if text else "")


def _retry_after(response: httpx.Response) -> float | None:
    """The server's `Retry-After` in seconds (delta or HTTP date), capped; None if absent."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


class CtgovClient:
    """A ClinicalTrials.gov API v2 client: paging, timeouts, retries, honest errors.

    `retries` is how many times a failed request is tried again (so one request is sent
    at most `retries + 1` times); the wait before retry n (0-based) is
    `backoff * 2**n` plus a little jitter, or the server's `Retry-After` (at most 60 s).
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = USER_AGENT,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must not be negative")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_CAP)),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            follow_redirects=True,  # /studies/{alias} answers 301 to the study's own ID
        )

    # --- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> CtgovClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- public API ----------------------------------------------------------------------

    def iter_studies(self, query: FetchQuery) -> Iterator[RawRecord]:
        """Yield each study as a RawRecord(source=<API URL>, position, data=study).

        The position is "page N item M" for a condition search and the study's NCT ID when
        fetching by ID. Malformed NCT IDs or statuses raise FetchError here, before any
        request. When fetching by ID alone, each requested ID no study answers to is
        yielded as a RawRecord with an error, so the importer reports it as rejected.
        """
        ids = _checked_ids(query.nct_ids)
        statuses = _checked_statuses(query.statuses)
        params: dict[str, str] = {}
        if query.condition and query.condition.strip():
            params["query.cond"] = query.condition.strip()
        if statuses:
            params["filter.overallStatus"] = ",".join(statuses)
        return self._studies(query, params, ids, report_missing=len(params) == 0)

    def get_study(self, nct_id: str) -> dict[str, Any]:
        """One study by NCT ID (`GET /studies/{nctId}`); FetchError if unknown (404)."""
        (checked,) = _checked_ids([nct_id])
        response = self._get(f"studies/{checked}", {"format": "json"})
        doc = self._json(response)
        if not isinstance(doc, dict):
            raise FetchError(
                f"{self._describe(response.request.url)}: the reply is not a study object"
            )
        return doc

    # --- paging --------------------------------------------------------------------------

    def _source(self, params: dict[str, str]) -> str:
        return str(httpx.URL(f"{self.base_url}/studies", params=params))

    def _studies(
        self, query: FetchQuery, params: dict[str, str], ids: list[str], *, report_missing: bool
    ) -> Iterator[RawRecord]:
        source = self._source(params)
        limit = query.max_studies
        yielded = 0

        def left() -> int | None:
            return None if limit is None else limit - yielded

        chunks: list[list[str]] = (
            [ids[i : i + IDS_PER_REQUEST] for i in range(0, len(ids), IDS_PER_REQUEST)]
            if ids
            else [[]]
        )
        for chunk in chunks:
            search = {**params, "filter.ids": ",".join(chunk)} if chunk else dict(params)
            answered: set[str] = set()
            for page, studies in self._pages(search, query.page_size, left):
                for item, study in enumerate(studies, start=1):
                    if limit is not None and yielded >= limit:
                        return
                    nct_id, names = _nct_ids_of(study)
                    answered |= names
                    position = nct_id if chunk and nct_id else f"page {page} item {item}"
                    yield RawRecord(source, position, study)
                    yielded += 1
            if limit is not None and yielded >= limit:
                return
            if report_missing:
                for missing in chunk:
                    if missing not in answered:
                        yield RawRecord(source, missing, error=NOT_FOUND)

    def _pages(
        self, params: dict[str, str], page_size: int, left: Callable[[], int | None]
    ) -> Iterator[tuple[int, list[Any]]]:
        """Each page's `studies`, following `nextPageToken` while more are wanted."""
        token: str | None = None
        page = 0
        while True:
            remaining = left()
            if remaining is not None and remaining <= 0:
                return
            size = page_size if remaining is None else min(page_size, remaining)
            request = {**params, "format": "json", "pageSize": str(size)}
            if token:
                request["pageToken"] = token
            page += 1
            response = self._get("studies", request)
            doc = self._json(response)
            where = self._describe(response.request.url)
            studies = doc.get("studies") if isinstance(doc, dict) else None
            if not isinstance(studies, list):
                raise FetchError(f'{where}: the reply is JSON but has no "studies" list')
            yield page, studies
            next_token = doc.get("nextPageToken")
            if not next_token:
                return
            if not isinstance(next_token, str) or next_token == token:
                raise FetchError(f"{where}: the reply's nextPageToken would repeat this page")
            token = next_token

    # --- one request ---------------------------------------------------------------------

    def _describe(self, url: httpx.URL | str) -> str:
        text = str(url)
        return "GET " + (text if len(text) <= URL_CHARS else text[: URL_CHARS - 1] + "…")

    def _delay(self, attempt: int) -> float:
        base = self.backoff * 2.0**attempt
        return base + random.uniform(0, base / 4)  # noqa: S311 - jitter, not a secret

    def _get(self, path: str, params: dict[str, str]) -> httpx.Response:
        """GET with retries for transient failures; FetchError for every other outcome."""
        attempts = self.retries + 1
        what = self._describe(httpx.URL(f"{self.base_url}/{path}", params=params))
        failure = ""
        status: int | None = None
        for attempt in range(1, attempts + 1):
            try:
                response = self._client.get(path, params=params)
            except _TRANSIENT_ERRORS as exc:
                failure = _describe_error(exc)
                status = None
                delay = self._delay(attempt - 1)
            except httpx.HTTPError as exc:
                raise FetchError(
                    f"{what}: {_describe_error(exc)} on try {attempt}, not retried",
                    attempts=attempt,
                ) from exc
            else:
                if response.is_success:
                    return response
                status = response.status_code
                failure = f"HTTP {status} {response.reason_phrase}".rstrip()
                if status != 429 and status < 500:
                    body = _excerpt(response.text)
                    raise FetchError(
                        f"{what}: {failure} on try {attempt}, not retried"
                        + (f": {body}" if body else ""),
                        status=status,
                        attempts=attempt,
                    )
                retry_after = _retry_after(response)
                delay = retry_after if retry_after is not None else self._delay(attempt - 1)
            if attempt < attempts:
                log.warning("%s: %s; trying again in %.1f s", what, failure, delay)
                self._sleep(delay)
        raise FetchError(
            f"{what}: gave up after {attempts} {'try' if attempts == 1 else 'tries'}; "
            f"last error: {failure}",
            status=status,
            attempts=attempts,
        )

    def _json(self, response: httpx.Response) -> Any:
        where = self._describe(response.request.url)
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            body = _excerpt(response.text, 80)
            raise FetchError(
                f"{where}: HTTP {response.status_code} reply is not JSON ({kind})"
                + (f": {body}" if body else "")
            ) from None


def fetch_records(
    settings: Settings, query: FetchQuery, *, transport: httpx.BaseTransport | None = None
) -> Iterator[RawRecord]:
    """The studies `query` asks for, from `settings.ctgov_api_url`, for `import_records`.

    Bad NCT IDs or statuses raise FetchError at once; network failures raise FetchError
    while iterating (batches the importer already wrote stay written). The HTTP client is
    closed when the iteration ends, however it ends.
    """
    client = CtgovClient(settings.ctgov_api_url, transport=transport)
    try:
        records = client.iter_studies(query)
    except BaseException:
        client.close()
        raise
    return _closing(client, records)


def _closing(client: CtgovClient, records: Iterator[RawRecord]) -> Iterator[RawRecord]:
    with client:
        yield from records
