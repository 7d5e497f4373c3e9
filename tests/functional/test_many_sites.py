"""A study with 5,000 sites: pages show the nearest few, the rest a page at a time."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contact.models import ContactRequest
from app.studies.models import Site, Study
from tests import factories as f
from tests.conftest import load

SITES = 5000
PAGE_LIMIT = 150 * 1024
COUNTRIES = ("United States", "Canada", "France", "Japan")


@pytest.fixture
def big_study(session: Session) -> dict[str, Any]:
    sites = []
    for n in range(SITES):
        country = COUNTRIES[n % len(COUNTRIES)]
        # Spread over a band of latitudes, so distances from Chicago all differ.
        lat, lon = 20 + (n % 400) * 0.1, -120 + (n // 400) * 4.0
        name = f"Clinic {n:04d}"
        sites.append(
            f.site(
                facility=name,
                city=f"Town {n:04d}",
                country=country,
                state=None,
                lat=lat,
                lon=lon,
                status="COMPLETED" if n % 10 == 9 else "RECRUITING",
                contacts=[{"name": f"Coordinator {n}", "email": f"site{n}@example.org"}],
            )
        )
    record = f.study(title="A study at five thousand sites", sites=sites)
    load(session, record)
    return record


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


def test_the_study_page_shows_the_nearest_sites_and_links_to_the_rest(
    client: TestClient, big_study: dict[str, Any]
) -> None:
    page = client.get(f"/studies/{nct(big_study)}", params={"location": "Chicago, IL"})
    assert page.status_code == 200
    assert len(page.content) < PAGE_LIMIT, len(page.content)
    shown = re.findall(r"<strong>(Clinic \d{4})</strong>", page.text)
    assert len(shown) == 10
    distances = [float(km.replace(",", "")) for km in re.findall(r"([\d,.]+) km", page.text)]
    assert distances[:10] == sorted(distances[:10])
    assert f"See all {SITES:,} sites" in page.text


def test_the_contact_form_offers_the_nearest_open_sites_and_a_way_to_all(
    client: TestClient, big_study: dict[str, Any], session: Session
) -> None:
    form = client.get(f"/studies/{nct(big_study)}/contact", params={"location": "Chicago, IL"})
    assert form.status_code == 200
    assert len(form.content) < PAGE_LIMIT, len(form.content)
    radios = re.findall(r'name="site" id="site-(\d+)"', form.text)
    assert len(radios) == 10
    open_sites = SITES - SITES // 10
    assert f"Choose from all {open_sites:,} sites that take contacts" in form.text

    # The full list, a page at a time, only those taking contacts, one country.
    link = re.search(r'href="(/studies/[^"]+/sites\?[^"]+)"', form.text)
    assert link
    listing = client.get(link.group(1).replace("&amp;", "&") + "&country=Japan")
    assert listing.status_code == 200
    assert len(listing.content) < PAGE_LIMIT
    in_japan = sum(1 for n in range(SITES) if n % 4 == 3 and n % 10 != 9)
    assert f"{in_japan:,} sites in Japan" in listing.text
    assert "Page 1 of" in listing.text
    pick = re.findall(r'href="[^"]*?(/studies/[^"]+/contact\?site=(\d+)[^"]*)"', listing.text)
    assert len(pick) == 25
    target, site_id = pick[-1]
    site = session.get(Site, int(site_id))
    assert site is not None
    assert site.country == "Japan"

    # Choosing a site far down the list preselects it on the form, and the request goes there.
    chosen = client.get(target.replace("&amp;", "&"))
    assert re.search(rf'id="site-{site_id}" value="{site_id}" checked', chosen.text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', chosen.text)
    assert token
    sent = client.post(
        f"/studies/{nct(big_study)}/contact",
        data={
            "first_name": "Ana",
            "last_name": "Lima",
            "email": "ana@example.com",
            "phone": "+1 202-456-1111",
            "site": site_id,
            "consent": "yes",
            "csrf_token": token.group(1),
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    request = session.scalars(select(ContactRequest)).one()
    assert (request.site_id, request.routed_to) == (int(site_id), site.contacts[0]["email"])


def test_a_closed_site_cannot_be_chosen_by_editing_the_form(
    client: TestClient, big_study: dict[str, Any], session: Session
) -> None:
    study = session.scalars(select(Study).where(Study.nct_id == nct(big_study))).one()
    closed = session.scalars(
        select(Site.id).where(Site.study_id == study.id, Site.status == "COMPLETED").limit(1)
    ).one()
    form = client.get(
        f"/studies/{nct(big_study)}/contact", params={"site": str(closed), "choose": "1"}
    )
    assert f'id="site-{closed}"' not in form.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    sent = client.post(
        f"/studies/{nct(big_study)}/contact",
        data={
            "first_name": "Ana",
            "last_name": "Lima",
            "email": "ana@example.com",
            "phone": "+1 202-456-1111",
            "site": str(closed),
            "consent": "yes",
            "csrf_token": token.group(1),
        },
    )
    assert sent.status_code == 422
    assert "Choose a study site from the list" in sent.text
