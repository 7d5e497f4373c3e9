"""The ClinicalTrials.gov API v2 client: paging, ID chunks, retries, errors, import.

Every request goes to an `httpx.MockTransport` handler (never the internet), and every
study is a fictional one from `tests.factories`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.ctgov.client import (
    IDS_PER_REQUEST,
    NOT_FOUND,
    CtgovClient,
    FetchError,
    FetchQuery,
    fetch_records,
)
from app.ctgov.importer import import_records
from app.studies.models import Study
from tests import factories as f
from tests.conftest import NOW

BASE = "https://ctgov.example.test/api/v2"
Handler = Callable[[httpx.Request], httpx.Response]


def nct(study: dict[str, Any]) -> str:
    return str(study["protocolSection"]["identificationModule"]["nctId"])


def page(studies: list[dict[str, Any]], token: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"studies": studies}
    if token is not None:
        body["nextPageToken"] = token
    return httpx.Response(200, json=body)


class Server:
    """A MockTransport handler that records every request it is sent."""

    def __init__(self, respond: Handler) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def params(self) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests]


def scripted(*steps: httpx.Response | Exception) -> Handler:
    """Answer the requests in turn: a response, or an exception to raise."""
    queue = list(steps)

    def respond(request: httpx.Request) -> httpx.Response:
        step = queue.pop(0)
        if isinstance(step, httpx.TransportError):
            step.request = request
        if isinstance(step, Exception):
            raise step
        return step

    return respond


def unreachable(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected, got {request.url}")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connect(sleeps: list[float]) -> Iterator[Callable[..., tuple[CtgovClient, Server]]]:
    """A client wired to a recording mock server; `sleep` only records the delays."""
    clients: list[CtgovClient] = []

    def make(respond: Handler, **options: Any) -> tuple[CtgovClient, Server]:
        server = Server(respond)
        client = CtgovClient(
            BASE, transport=httpx.MockTransport(server), sleep=sleeps.append, **options
        )
        clients.append(client)
        return client, server

    yield make
    for client in clients:
        client.close()


# --- pages -----------------------------------------------------------------------------


def test_follows_next_page_token_over_three_pages(connect: Any) -> None:
    studies = [f.study() for _ in range(5)]
    pages = {None: page(studies[:2], "tok-2"), "tok-2": page(studies[2:4], "tok-3")}
    pages["tok-3"] = page(studies[4:])
    client, server = connect(lambda r: pages[r.url.params.get("pageToken")])

    records = list(client.iter_studies(FetchQuery(condition="asthma", page_size=2)))

    assert [r.data for r in records] == studies
    assert [r.error for r in records] == [None] * 5
    assert [r.position for r in records] == [
        "page 1 item 1",
        "page 1 item 2",
        "page 2 item 1",
        "page 2 item 2",
        "page 3 item 1",
    ]
    assert {r.source for r in records} == {f"{BASE}/studies?query.cond=asthma"}
    assert [r.url.path for r in server.requests] == ["/api/v2/studies"] * 3
    params = server.params
    assert [p.pop("pageToken", None) for p in params] == [None, "tok-2", "tok-3"]
    # Every later page repeats the first page's parameters, as the API requires.
    assert params == [{"query.cond": "asthma", "format": "json", "pageSize": "2"}] * 3
    assert all(r.headers["User-Agent"].startswith("TrialFinder/") for r in server.requests)


def test_an_empty_page_with_a_token_is_not_the_end(connect: Any) -> None:
    one, two = f.study(), f.study()
    pages = {None: page([one], "a"), "a": page([], "b"), "b": page([two])}
    client, server = connect(lambda r: pages[r.url.params.get("pageToken")])
    records = list(client.iter_studies(FetchQuery(condition="asthma")))
    assert [r.data for r in records] == [one, two]
    assert len(server.requests) == 3


def test_a_repeated_page_token_stops_with_an_error(connect: Any) -> None:
    client, _ = connect(lambda r: page([f.study()], "same"))
    with pytest.raises(FetchError, match="nextPageToken"):
        list(client.iter_studies(FetchQuery(condition="asthma")))


@pytest.mark.parametrize(("max_studies", "sizes"), [(5, ["2", "2", "1"]), (3, ["2", "1"])])
def test_max_studies_stops_early_and_asks_for_no_more_pages(
    connect: Any, max_studies: int, sizes: list[str]
) -> None:
    counter = iter(range(1000))

    def endless(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["pageSize"])
        return page([f.study() for _ in range(size)], f"tok-{next(counter)}")

    client, server = connect(endless)
    query = FetchQuery(condition="asthma", max_studies=max_studies, page_size=2)
    records = list(client.iter_studies(query))
    assert len(records) == max_studies
    assert [p["pageSize"] for p in server.params] == sizes


def test_max_studies_is_kept_when_the_server_sends_more_than_asked(connect: Any) -> None:
    client, server = connect(lambda r: page([f.study() for _ in range(10)], "more"))
    records = list(client.iter_studies(FetchQuery(condition="asthma", max_studies=3)))
    assert len(records) == 3
    assert len(server.requests) == 1


# --- NCT IDs and statuses --------------------------------------------------------------


def test_nct_ids_are_requested_in_chunks(connect: Any) -> None:
    ids = [f.next_nct_id() for _ in range(2 * IDS_PER_REQUEST + 50)]

    def by_id(request: httpx.Request) -> httpx.Response:
        return page([f.study(i) for i in request.url.params["filter.ids"].split(",")])

    client, server = connect(by_id)
    # Lower case, spaces and a repeat are tidied before anything is sent.
    asked = (f" {ids[0].lower()} ", *ids, ids[1])
    records = list(client.iter_studies(FetchQuery(nct_ids=asked, page_size=1000)))

    chunks = [p["filter.ids"].split(",") for p in server.params]
    assert [len(c) for c in chunks] == [IDS_PER_REQUEST, IDS_PER_REQUEST, 50]
    assert [i for c in chunks for i in c] == ids
    assert all("query.cond" not in p and p["pageSize"] == "1000" for p in server.params)
    assert [r.position for r in records] == ids
    assert [nct(r.data) for r in records] == ids
    assert {r.source for r in records} == {f"{BASE}/studies"}


def test_an_nct_id_no_study_answers_to_is_reported(connect: Any) -> None:
    found, missing, alias = f.next_nct_id(), f.next_nct_id(), f.next_nct_id()
    renamed = f.study()
    renamed["protocolSection"]["identificationModule"]["nctIdAliases"] = [alias]
    client, _ = connect(scripted(page([f.study(found), renamed])))

    records = list(client.iter_studies(FetchQuery(nct_ids=(found, missing, alias))))

    assert [(r.position, r.error) for r in records] == [
        (found, None),
        (nct(renamed), None),
        (missing, NOT_FOUND),
    ]


def test_status_filter_and_condition_are_sent_together(connect: Any) -> None:
    client, server = connect(scripted(page([f.study()])))
    query = FetchQuery(condition="type 2 diabetes", statuses=("recruiting", "NOT_YET_RECRUITING"))
    records = list(client.iter_studies(query))
    assert len(records) == 1
    assert server.params[0]["query.cond"] == "type 2 diabetes"
    # API v2 takes a comma- or pipe-separated list; commas are used here.
    assert server.params[0]["filter.overallStatus"] == "RECRUITING,NOT_YET_RECRUITING"
    assert records[0].source == (
        f"{BASE}/studies?query.cond=type+2+diabetes"
        "&filter.overallStatus=RECRUITING%2CNOT_YET_RECRUITING"
    )


@pytest.mark.parametrize(
    ("query", "named"),
    [
        (FetchQuery(nct_ids=("NCT98000001", "NCT123")), "'NCT123'"),
        (FetchQuery(nct_ids=("98000001",)), "'98000001'"),
        (FetchQuery(nct_ids=("NCT980000012",)), "'NCT980000012'"),
        (FetchQuery(condition="asthma", statuses=("RECRUTING",)), "'RECRUTING'"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    connect: Any, query: FetchQuery, named: str
) -> None:
    client, server = connect(unreachable)
    with pytest.raises(FetchError, match=named):
        client.iter_studies(query)  # refused at the call, not at the first item
    assert server.requests == []


def test_a_query_needs_a_condition_or_nct_ids() -> None:
    with pytest.raises(ValueError, match="condition or at least one NCT ID"):
        FetchQuery()
    with pytest.raises(ValueError, match="condition or at least one NCT ID"):
        FetchQuery(condition="  ", statuses=("RECRUITING",))
    with pytest.raises(ValueError, match="page_size"):
        FetchQuery(condition="asthma", page_size=1001)
    with pytest.raises(ValueError, match="max_studies"):
        FetchQuery(condition="asthma", max_studies=0)


# --- retries ---------------------------------------------------------------------------


def test_503_is_retried_with_growing_delays(connect: Any, sleeps: list[float]) -> None:
    study = f.study()
    busy = httpx.Response(503, text="busy")
    client, server = connect(scripted(busy, busy, page([study])), backoff=1.0)
    records = list(client.iter_studies(FetchQuery(condition="asthma")))
    assert [r.data for r in records] == [study]
    assert len(server.requests) == 3
    assert len(sleeps) == 2
    assert 1.0 <= sleeps[0] <= 1.25
    assert 2.0 <= sleeps[1] <= 2.5


@pytest.mark.parametrize(("header", "waited"), [("7", 7.0), ("3600", 60.0)])
def test_429_waits_as_long_as_retry_after_says_up_to_a_minute(
    connect: Any, sleeps: list[float], header: str, waited: float
) -> None:
    limited = httpx.Response(429, headers={"Retry-After": header}, text="slow down")
    client, server = connect(scripted(limited, page([f.study()])))
    assert len(list(client.iter_studies(FetchQuery(condition="asthma")))) == 1
    assert sleeps == [waited]
    assert len(server.requests) == 2


def test_429_without_retry_after_backs_off(connect: Any, sleeps: list[float]) -> None:
    client, _ = connect(scripted(httpx.Response(429), page([f.study()])), backoff=0.5)
    assert len(list(client.iter_studies(FetchQuery(condition="asthma")))) == 1
    assert len(sleeps) == 1
    assert 0.5 <= sleeps[0] <= 0.625


@pytest.mark.parametrize(
    "error", [httpx.ReadTimeout("timed out"), httpx.ConnectError("connection refused")]
)
def test_timeouts_and_connection_errors_are_retried(
    connect: Any, sleeps: list[float], error: Exception
) -> None:
    study = f.study()
    client, server = connect(scripted(error, page([study])))
    assert [r.data for r in client.iter_studies(FetchQuery(condition="asthma"))] == [study]
    assert len(server.requests) == 2
    assert len(sleeps) == 1


def test_retries_exhausted_says_how_many_tries(connect: Any, sleeps: list[float]) -> None:
    client, server = connect(lambda r: httpx.Response(503, text="down"), retries=2)
    with pytest.raises(FetchError) as caught:
        list(client.iter_studies(FetchQuery(condition="asthma")))
    message = str(caught.value)
    assert "gave up after 3 tries" in message
    assert "HTTP 503 Service Unavailable" in message
    assert f"GET {BASE}/studies?" in message
    assert "\n" not in message
    assert (caught.value.status, caught.value.attempts) == (503, 3)
    assert len(server.requests) == 3
    assert len(sleeps) == 2  # no pointless wait after the last try


def test_timeouts_exhausted_name_the_network_error(connect: Any) -> None:
    client, _ = connect(scripted(*(httpx.ReadTimeout("timed out") for _ in range(2))), retries=1)
    with pytest.raises(FetchError, match=r"gave up after 2 tries; last error: ReadTimeout"):
        list(client.iter_studies(FetchQuery(condition="asthma")))


@pytest.mark.parametrize("status", [400, 404])
def test_other_client_errors_are_not_retried(
    connect: Any, sleeps: list[float], status: int
) -> None:
    body = "Invalid value of parameter\n  `filter.overallStatus`" + " x" * 300
    client, server = connect(lambda r: httpx.Response(status, text=body))
    with pytest.raises(FetchError) as caught:
        list(client.iter_studies(FetchQuery(condition="asthma")))
    message = str(caught.value)
    assert f"HTTP {status}" in message
    assert "not retried" in message
    assert "Invalid value of parameter `filter.overallStatus`" in message
    assert len(message) < 500
    assert "\n" not in message
    assert (caught.value.status, caught.value.attempts) == (status, 1)
    assert len(server.requests) == 1
    assert sleeps == []


# --- replies that are not a page -------------------------------------------------------


def test_a_reply_that_is_not_json_is_an_error(connect: Any) -> None:
    html = httpx.Response(
        200, text="<html>Maintenance</html>", headers={"Content-Type": "text/html"}
    )
    client, _ = connect(scripted(html))
    with pytest.raises(FetchError, match=r"not JSON \(text/html\): <html>Maintenance</html>"):
        list(client.iter_studies(FetchQuery(condition="asthma")))


@pytest.mark.parametrize("doc", [{"items": []}, {"studies": {"a": 1}}, [1, 2]])
def test_json_without_a_studies_list_is_an_error(connect: Any, doc: Any) -> None:
    client, _ = connect(scripted(httpx.Response(200, json=doc)))
    with pytest.raises(FetchError, match='no "studies" list'):
        list(client.iter_studies(FetchQuery(condition="asthma")))


# --- one study -------------------------------------------------------------------------


def test_get_study_reads_one_study_and_follows_an_alias_redirect(connect: Any) -> None:
    study = f.study()
    real, alias = nct(study), f.next_nct_id()

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(alias):
            return httpx.Response(301, headers={"Location": f"{BASE}/studies/{real}"})
        return httpx.Response(200, json=study)

    client, server = connect(respond)
    assert client.get_study(alias.lower()) == study
    assert [r.url.path for r in server.requests] == [
        f"/api/v2/studies/{alias}",
        f"/api/v2/studies/{real}",
    ]


def test_get_study_of_an_unknown_id_is_a_404_not_retried(connect: Any) -> None:
    missing = f.next_nct_id()
    client, server = connect(lambda r: httpx.Response(404, text=f"Study {missing} not found"))
    with pytest.raises(FetchError, match=rf"HTTP 404 Not Found .*Study {missing} not found"):
        client.get_study(missing)
    assert len(server.requests) == 1


# --- into the database -----------------------------------------------------------------


def test_fetched_studies_import_through_the_importer(session: Session) -> None:
    good = [f.study(title=f"Fictional fetched study {i}") for i in range(3)]
    broken = f.study()
    del broken["protocolSection"]["identificationModule"]["nctId"]
    pages = {None: page(good[:2], "next"), "next": page([good[2], broken])}
    transport = httpx.MockTransport(lambda r: pages[r.url.params.get("pageToken")])

    with CtgovClient(BASE, transport=transport, sleep=lambda s: None) as client:
        report = import_records(
            session, client.iter_studies(FetchQuery(condition="asthma")), now=NOW
        )
    session.flush()

    assert (report.inserted, report.updated, len(report.rejected)) == (3, 0, 1)
    rejection = report.rejected[0]
    assert (rejection.source, rejection.position) == (
        f"{BASE}/studies?query.cond=asthma",
        "page 2 item 2",
    )
    stored = set(session.scalars(select(Study.nct_id)))
    assert {nct(s) for s in good} <= stored


def test_fetch_records_uses_the_configured_api_url(session: Session, settings: Settings) -> None:
    studies = [f.study(), f.study()]
    server = Server(lambda r: page(studies))
    configured = settings.model_copy(update={"ctgov_api_url": BASE + "/"})
    query = FetchQuery(nct_ids=tuple(nct(s) for s in studies))

    records = fetch_records(configured, query, transport=httpx.MockTransport(server))
    assert server.requests == []  # nothing is sent until the records are read
    report = import_records(session, records, now=NOW)

    assert report.inserted == 2
    assert str(server.requests[0].url).startswith(f"{BASE}/studies?")
    with pytest.raises(FetchError, match="not an NCT ID"):
        fetch_records(
            configured, FetchQuery(nct_ids=("NCT1",)), transport=httpx.MockTransport(server)
        )
