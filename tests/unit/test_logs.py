"""Operators' logs carry no personal data from the web server's access log."""

from __future__ import annotations

import logging

import pytest

from app.config import Settings
from app.logs import AccessLogPrivacy


def test_access_log_lines_lose_the_client_address_and_query() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:5123", "GET", "/studies?condition=asthma&location=10001", "1.1", 200),
        None,
    )
    assert AccessLogPrivacy().filter(record)
    line = record.getMessage()
    assert line == '- - "GET /studies HTTP/1.1" 200'


def test_email_domains_are_checked_in_production_only_by_default() -> None:
    assert not Settings(_env_file=None).checks_email_domains
    production = Settings(
        _env_file=None, env="production", secret_key="k" * 40, base_url="https://t.example.org"
    )
    assert production.checks_email_domains
    assert not production.model_copy(
        update={"email_check_deliverability": False}
    ).checks_email_domains


def test_access_log_lines_lose_the_token_of_a_patients_link() -> None:
    token = "Abc_-" + "x" * 38
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:5123", "POST", f"/requests/{token}/withdraw", "1.1", 303),
        None,
    )
    assert AccessLogPrivacy().filter(record)
    assert record.getMessage() == '- - "POST /requests/[token]/withdraw HTTP/1.1" 303'


@pytest.mark.parametrize("kind", ["confirm", "unsubscribe", "manage"])
def test_access_log_lines_lose_the_token_of_an_alert_link(kind: str) -> None:
    token = "Zyx_-" + "y" * 38
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:5123", "POST", f"/alerts/{kind}/{token}?x=1", "1.1", 200),
        None,
    )
    assert AccessLogPrivacy().filter(record)
    assert record.getMessage() == f'- - "POST /alerts/{kind}/[token] HTTP/1.1" 200'


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/shared/{t}", "/shared/[token]"),
        ("/shared/{t}/revoke", "/shared/[token]/revoke"),
        ("/shared/{t}/manage/{s}", "/shared/[token]/manage/[secret]"),
        ("//shared/{t}", "/shared/[token]"),
        ("/shared//{t}", "/shared/[token]"),
        ("/./shared/{t}/manage/{s}", "/shared/[token]/manage/[secret]"),
        ("/shared/{t}/manage//{s}", "/shared/[token]/manage/[secret]"),
        ("/shared/a/{t}/manage/{s}", "/shared/[token]/[secret]/manage/[secret]"),
        ("/shared/..%2f..%2fetc/manage/{s}", "/shared/[token]/manage/[secret]"),
        ("//requests/{t}/withdraw?x=1", "/requests/[token]/withdraw"),
        ("/alerts//manage/{t}", "/alerts/manage/[token]"),
    ],
)
def test_no_way_of_writing_a_share_or_other_link_puts_its_token_in_the_log(
    path: str, logged: str
) -> None:
    token, secret = "Abc_-" + "t" * 27, "Sec-_" + "s" * 27
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:5123", "GET", path.format(t=token, s=secret), "1.1", 404),
        None,
    )
    assert AccessLogPrivacy().filter(record)
    line = record.getMessage()
    assert line == f'- - "GET {logged} HTTP/1.1" 404'
    assert token not in line
    assert secret not in line
