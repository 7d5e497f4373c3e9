"""The search rules (see the README, "Search"), each with its edges, on SQLite and PostgreSQL."""

from __future__ import annotations

import bz2
import pickle
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.geo.places import Place
from app.studies import lay_names as lay_names_module
from app.studies.indexing import reindex_all
from app.studies.lay_names import CURATED, SOURCES, alternatives, lay_names
from app.studies.models import SearchTerm, Study
from app.studies.search import SearchParams, related_studies, search_studies
from app.studies.text import words
from tests import factories as f
from tests.conftest import load

CHICAGO = Place("Chicago", 41.8781, -87.6298)


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


def found(session: Session, origin: Place | None = None, **params: Any) -> list[str]:
    result = search_studies(session, SearchParams.model_validate(params), origin=origin)
    return [hit.study.nct_id for hit in result.hits]


@pytest.mark.parametrize(
    ("age", "minimum", "maximum", "expected"),
    [
        (17, "18 Years", None, False),
        (18, "18 Years", None, True),
        (17, None, "17 Years", True),
        (18, None, "17 Years", False),
        (0, None, "6 Months", True),
        (1, None, "6 Months", False),
        (0, "2 Weeks", None, True),
        (0, "30 Days", None, True),
        (0, "1 Year", None, False),
        (120, None, None, True),
        (65, "18 Years", "65 Years", True),
        (66, "18 Years", "65 Years", False),
    ],
)
def test_age_bounds(
    session: Session, age: int, minimum: str | None, maximum: str | None, expected: bool
) -> None:
    record = f.study(min_age=minimum, max_age=maximum)
    load(session, record)
    nct = record["protocolSection"]["identificationModule"]["nctId"]
    assert (nct in found(session, age=age)) is expected


def test_sex_filter(session: Session) -> None:
    women = f.study(sex="FEMALE")
    men = f.study(sex="MALE")
    everyone = f.study(sex="ALL")
    unstated = f.study(sex=None)
    load(session, women, men, everyone, unstated)
    ids = [
        s["protocolSection"]["identificationModule"]["nctId"]
        for s in (women, men, everyone, unstated)
    ]
    assert set(found(session, sex="female")) == {ids[0], ids[2], ids[3]}
    assert set(found(session, sex="MALE")) == {ids[1], ids[2], ids[3]}
    assert set(found(session, sex="any")) == set(ids)
    assert set(found(session)) == set(ids)


def test_status_default_recruiting_and_explicit(session: Session) -> None:
    recruiting = f.study(status="RECRUITING")
    soon = f.study(status="NOT_YET_RECRUITING")
    done = f.study(status="COMPLETED")
    load(session, recruiting, soon, done)
    r, s, d = (
        x["protocolSection"]["identificationModule"]["nctId"] for x in (recruiting, soon, done)
    )
    assert found(session) == [r]
    assert set(found(session, status="recruiting,not_yet_recruiting")) == {r, s}
    assert set(found(session, status=["COMPLETED", "recruiting"])) == {r, d}


def test_condition_matches_conditions_keywords_mesh_and_title(session: Session) -> None:
    by_condition = f.study(conditions=("Chronic Obstructive Pulmonary Disease",))
    by_keyword = f.study(conditions=("Lung function",), keywords=("emphysema",))
    by_ancestor = f.study(conditions=("Bronchiolitis obliterans",), ancestors=("Lung Diseases",))
    by_title = f.study(
        conditions=("Healthy",), title="Inhaler technique in pulmonary rehabilitation"
    )
    load(session, by_condition, by_keyword, by_ancestor, by_title)
    ids = [
        s["protocolSection"]["identificationModule"]["nctId"]
        for s in (by_condition, by_keyword, by_ancestor, by_title)
    ]
    assert found(session, condition="obstructive pulmonary disease chronic") == [ids[0]]
    assert found(session, condition="Emphysema") == [ids[1]]
    assert found(session, condition="lung diseases") == [ids[2]]
    assert found(session, condition="pulmonary rehabilitation") == [ids[3]]


def test_condition_stemming_accents_and_case(session: Session) -> None:
    cancer = f.study(conditions=("Breast Cancer",))
    sjogren = f.study(conditions=("Sjögren's Syndrome",))
    meniere = f.study(conditions=("Meniere Disease",))
    load(session, cancer, sjogren, meniere)
    ids = [
        s["protocolSection"]["identificationModule"]["nctId"] for s in (cancer, sjogren, meniere)
    ]
    assert found(session, condition="CANCERS of the breast") == [ids[0]]
    assert found(session, condition="sjogren") == [ids[1]]
    assert found(session, condition="Ménière") == [ids[2]]


def test_condition_forgives_one_typo_in_longer_words(session: Session) -> None:
    asthma = f.study(conditions=("Asthma",))
    diabetes = f.study(conditions=("Type 2 Diabetes Mellitus",))
    load(session, asthma, diabetes)
    a, d = (s["protocolSection"]["identificationModule"]["nctId"] for s in (asthma, diabetes))
    assert found(session, condition="astma") == [a]
    assert found(session, condition="diabetse") == [d]  # transposition
    assert found(session, condition="diabxtes type 2") == [d]
    # Two typos are not forgiven, and short words must match exactly.
    assert found(session, condition="dabxtes") == []
    assert found(session, condition="asth") == []


def test_relevance_puts_condition_match_before_title_match(session: Session) -> None:
    in_title = f.study(
        conditions=("Healthy",), title="Sleep quality in people living near airports"
    )
    in_condition = f.study(conditions=("Sleep Apnea",), title="A device study")
    load(session, in_title, in_condition)
    ids = found(session, condition="sleep")
    assert ids == [
        in_condition["protocolSection"]["identificationModule"]["nctId"],
        in_title["protocolSection"]["identificationModule"]["nctId"],
    ]


def test_location_orders_by_nearest_recruiting_site_and_applies_radius(session: Session) -> None:
    # Evanston is ~19 km from central Chicago, Milwaukee ~130 km, Springfield ~300 km.
    evanston = f.site(city="Evanston", lat=42.0451, lon=-87.6877)
    milwaukee = f.site(city="Milwaukee", state="Wisconsin", lat=43.0389, lon=-87.9065)
    springfield = f.site(city="Springfield", lat=39.7817, lon=-89.6501)
    closed_near = f.site(city="Chicago", lat=41.88, lon=-87.63, status="COMPLETED")
    near = f.study(sites=[springfield, evanston])
    far = f.study(sites=[milwaukee])
    only_closed_near = f.study(sites=[closed_near, springfield])
    load(session, near, far, only_closed_near)
    n, m, c = (
        s["protocolSection"]["identificationModule"]["nctId"] for s in (near, far, only_closed_near)
    )

    result = search_studies(session, SearchParams(), origin=CHICAGO)
    assert [h.study.nct_id for h in result.hits] == [n]
    assert result.hits[0].nearest_site is not None
    assert result.hits[0].nearest_site.city == "Evanston"
    assert result.hits[0].nearest_site.distance_km == pytest.approx(19.0, abs=1.0)

    assert found(session, CHICAGO, radius_km=200) == [n, m]
    # The closed site in Chicago does not count; its Springfield site does.
    assert found(session, CHICAGO, radius_km=400) == [n, m, c]
    assert found(session, CHICAGO, radius_km=400, status="RECRUITING,COMPLETED")[0] == c


def test_radius_edge_is_inclusive_to_the_kilometre(session: Session) -> None:
    # A site 1 degree of latitude north: 111.2 km on the 6371.0088 km sphere.
    north = f.study(sites=[f.site(lat=CHICAGO.lat + 1.0, lon=CHICAGO.lon)])
    load(session, north)
    assert found(session, CHICAGO, radius_km=111.3) != []
    assert found(session, CHICAGO, radius_km=111.1) == []


def test_every_status_can_be_searched_by_place(session: Session) -> None:
    """The spatial index codes statuses; each must find its own sites and no others."""
    from app.studies.rules import STATUSES

    records = {status: f.study(status=status, sites=[f.site(status=status)]) for status in STATUSES}
    load(session, *records.values())
    for status, record in records.items():
        assert found(session, CHICAGO, status=status) == [nct(record)], status


def test_site_without_status_uses_study_status(session: Session) -> None:
    unknown = f.study(status="RECRUITING", sites=[f.site(status=None)])
    load(session, unknown)
    assert found(session, CHICAGO) == [unknown["protocolSection"]["identificationModule"]["nctId"]]


def test_combined_filters(session: Session) -> None:
    match = f.study(conditions=("Asthma",), sex="FEMALE", min_age="12 Years", max_age="40 Years")
    wrong_age = f.study(conditions=("Asthma",), min_age="50 Years")
    wrong_place = f.study(conditions=("Asthma",), sites=[f.site(lat=48.85, lon=2.35, city="Paris")])
    load(session, match, wrong_age, wrong_place)
    assert found(session, CHICAGO, condition="asthma", age=30, sex="female") == [
        match["protocolSection"]["identificationModule"]["nctId"]
    ]


def test_pagination_and_total(session: Session) -> None:
    load(session, *[f.study(conditions=("Gout",)) for _ in range(7)])
    result = search_studies(session, SearchParams(condition="gout", page=2, page_size=3))
    assert result.total == 7
    assert len(result.hits) == 3
    assert result.pages == 3
    beyond = search_studies(session, SearchParams(condition="gout", page=5, page_size=3))
    assert beyond.total == 7
    assert beyond.hits == []


def test_related_studies_share_conditions_and_exclude_self(session: Session) -> None:
    base = f.study(conditions=("Psoriasis",))
    similar = f.study(conditions=("Plaque Psoriasis",))
    other = f.study(conditions=("Gout",))
    closed = f.study(conditions=("Psoriasis",), status="COMPLETED")
    load(session, base, similar, other, closed)
    from app.studies.models import Study

    study = (
        session.query(Study)
        .filter_by(nct_id=base["protocolSection"]["identificationModule"]["nctId"])
        .one()
    )
    related = [h.study.nct_id for h in related_studies(session, study)]
    assert related == [similar["protocolSection"]["identificationModule"]["nctId"]]


@pytest.mark.parametrize(
    "bad",
    [
        {"age": -1},
        {"age": "abc"},
        {"age": 121},
        {"lat": 200, "lon": 0},
        {"lat": 10},
        {"page": 0},
        {"page_size": 101},
        {"radius_km": 0},
        {"status": "RECRUTING"},
        {"sex": "other"},
        {"condition": "x" * 201},
    ],
)
def test_bad_parameters_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SearchParams.model_validate(bad)


def test_related_studies_nearest_first_with_a_place(session: Session) -> None:
    base = f.study(conditions=("Psoriasis",))
    far = f.study(conditions=("Psoriasis",), sites=[f.site(city="Paris", lat=48.85, lon=2.35)])
    near = f.study(
        conditions=("Psoriasis",), sites=[f.site(city="Evanston", lat=42.05, lon=-87.69)]
    )
    load(session, base, far, near)
    from app.studies.models import Study

    study = session.query(Study).filter_by(nct_id=nct(base)).one()
    related = related_studies(session, study, origin=CHICAGO)
    assert [h.study.nct_id for h in related] == [nct(near), nct(far)]
    assert related[0].nearest_site is not None
    assert related[0].nearest_site.distance_km < 25


@pytest.mark.parametrize(
    ("condition", "query"),
    [
        ("Acute Lymphoblastic Leukemia (ALL)", "ALL leukemia"),
        ("Down Syndrome", "down syndrome"),
        ("T-Cell Lymphoma", "T-cell lymphoma"),
        ("Pain After Surgery", "pain after surgery"),
    ],
)
def test_common_words_count_the_same_on_both_engines(
    session: Session, condition: str, query: str
) -> None:
    wanted = f.study(conditions=(condition,))
    decoy = f.study(conditions=("Leukemia", "Syndrome", "Lymphoma", "Pain", "Surgery"))
    load(session, wanted, decoy)
    assert found(session, condition=query) == [nct(wanted)]


@pytest.mark.parametrize("condition", ["乳腺癌", "!!!", "🙂", "\x00"])
def test_a_condition_we_cannot_read_is_refused_not_ignored(condition: str) -> None:
    with pytest.raises(ValidationError, match="English letters"):
        SearchParams(condition=condition)


def test_condition_forgives_possessives_and_british_spelling(session: Session) -> None:
    crohn = f.study(conditions=("Crohn Disease",))
    leukemia = f.study(conditions=("Acute Myeloid Leukemia",), meshes=("Leukemia, Myeloid",))
    tumour = f.study(conditions=("Brain Tumour",), title="Paediatric brain tumours")
    load(session, crohn, leukemia, tumour)
    c, lk, t = (nct(s) for s in (crohn, leukemia, tumour))
    assert found(session, condition="crohn's") == [c]
    assert found(session, condition="Crohn\u2019s disease") == [c]
    assert found(session, condition="leukaemia") == [lk]
    assert found(session, condition="leukemia") == [lk]
    assert found(session, condition="brain tumor") == [t]
    assert found(session, condition="pediatric") == [t]
    assert found(session, condition="paediatric tumours") == [t]


def test_reindex_all_rewrites_text_indexed_by_earlier_rules(session: Session) -> None:
    crohn = f.study(conditions=("Crohn's Disease",), title="Leukaemia and Crohn's")
    load(session, crohn)
    study = session.scalars(select(Study)).one()
    # As the rules before revision 0008 wrote it.
    study.search_conditions, study.search_title = "crohn s disease", "leukaemia and crohn s"
    session.add(SearchTerm(term="leukaemia"))
    session.flush()
    assert reindex_all(session) == 1
    session.flush()
    session.expire_all()
    assert (study.search_conditions, study.search_title) == ("crohn disease", "leukemia and crohn")
    assert session.get(SearchTerm, "leukaemia") is None
    assert found(session, condition="crohn's disease") == [nct(crohn)]
    assert found(session, condition="leukaemia") == [nct(crohn)]


def test_condition_lay_names_find_the_medical_terms(session: Session) -> None:
    hypertension = f.study(conditions=("Hypertension",), meshes=("Hypertension",))
    colorectal = f.study(conditions=("Colorectal Cancer",), meshes=("Colorectal Neoplasms",))
    load(session, hypertension, colorectal)
    h, c = nct(hypertension), nct(colorectal)
    assert found(session, condition="high blood pressure") == [h]  # HPO layperson synonym
    assert found(session, condition="bowel cancer") == [c]  # curated, NHS page title
    assert found(session, condition="colorectal cancer") == [c]


def test_lay_names_from_mesh_entry_terms_organs_and_either_number(session: Session) -> None:
    shingles = f.study(conditions=("Zoster Vaccine Response",), meshes=("Herpes Zoster",))
    womb = f.study(
        conditions=("Endometrial Carcinoma",),
        meshes=("Endometrial Neoplasms",),
        ancestors=("Uterine Neoplasms",),
    )
    stones = f.study(conditions=("Urolithiasis",), meshes=("Kidney Calculi",))
    load(session, shingles, womb, stones)
    assert found(session, condition="shingles") == [nct(shingles)]  # a MeSH entry term
    # Where a cancer is, in everyday words, and how MeSH names its neoplasms.
    assert found(session, condition="cancer of the womb") == [nct(womb)]
    assert found(session, condition="womb tumours") == [nct(womb)]
    # MeSH lists "Kidney Stones"; one stone is the same condition.
    assert found(session, condition="kidney stone") == [nct(stones)]
    assert found(session, condition="tumours of the kidney") == []
    # Only the organ's own cancer: no reading from "growth" or from "gland" alone.
    assert not [
        r for r in alternatives(words("growth hormone deficiency in bone")) if "neoplasms" in r
    ]
    assert ["uterine", "neoplasms"] in alternatives(words("womb cancer"))
    assert not [r for r in alternatives(words("thyroid gland cancer")) if "lymphatic" in r]


def test_a_reading_in_mesh_words_finds_a_listing_in_everyday_words(session: Session) -> None:
    """Some listings carry no MeSH terms: "bowel cancer" reads "colorectal neoplasms", which
    must also find a study that only says "Colorectal Cancer"."""
    plain = f.study(conditions=("Colorectal Cancer",))
    arthritis = f.study(conditions=("Inflammatory Bowel Diseases", "Arthritis"))
    load(session, plain, arthritis)
    assert found(session, condition="bowel cancer") == [nct(plain)]
    assert found(session, condition="womb cancer") == []


def test_every_curated_lay_name_names_its_source_and_adds_a_reading() -> None:
    assert all(source.strip() for _lay, _medical, source in CURATED)
    assert lay_names()[("high", "blood", "pressure")] == (("hypertension",),)
    # The table is for what the packages' vocabularies do not say: an entry they already
    # give is dead weight that hides how much the curated part carries.
    packages = ("mesh", "hpo")
    redundant = [
        (lay, medical)
        for lay, medical, _source in CURATED
        if words(medical) in alternatives(words(lay), sources=packages)
    ]
    assert redundant == []
    assert (*packages, "curated") == SOURCES


def test_the_vocabulary_file_is_read_as_plain_data_only(tmp_path: Path) -> None:
    """A data file that asks to build objects (and so could run code) is refused."""
    hostile = tmp_path / "dictionary.pkl.bz2"
    with bz2.open(hostile, "wb") as out:
        pickle.dump({"disease_variant_to_canonical": {"x": [Path("y")]}}, out)
    with pytest.raises(pickle.UnpicklingError, match="not plain data"):
        list(lay_names_module._mesh_pairs(hostile))


def test_condition_learns_what_sponsors_phrases_mean_from_the_registry(session: Session) -> None:
    gerd = ("Gastroesophageal Reflux",)
    typed = [f.study(conditions=("Heartburn Relief",), meshes=gerd) for _ in range(2)]
    filed = f.study(conditions=("GERD",), meshes=gerd)
    once = f.study(conditions=("Nightly Cramps",), meshes=("Muscle Cramp",))
    other = f.study(conditions=("Leg Pain",), meshes=("Muscle Cramp",))
    load(session, *typed, filed, once, other)
    assert sorted(found(session, condition="heartburn relief")) == sorted(
        nct(s) for s in (*typed, filed)
    )
    # One study alone does not teach what a phrase means.
    assert found(session, condition="nightly cramps") == [nct(once)]


def test_near_a_place_ties_within_a_kilometre_go_by_relevance(session: Session) -> None:
    def boston(km_east: float = 0.0) -> dict[str, Any]:
        return f.site(
            city="Boston", state="Massachusetts", lat=42.3601, lon=-71.0589 + km_east / 82
        )

    excluding = f.study(
        "NCT00000001",
        title="Any Cancer Type Excluding Breast",
        conditions=("Cancer, Excluding Breast",),
        sites=[boston()],
    )
    about = f.study(
        "NCT00000002", title="Breast cancer", conditions=("Breast Cancer",), sites=[boston(0.5)]
    )
    farther = f.study(
        "NCT00000003", title="Breast cancer", conditions=("Breast Cancer",), sites=[boston(5)]
    )
    load(session, excluding, about, farther)
    origin = Place("Boston", 42.3601, -71.0589)
    # Within the same kilometre the study about the word comes first; distance order holds
    # beyond it; the exclusion is still found.
    assert found(session, origin, condition="breast cancer") == [
        "NCT00000002",
        "NCT00000001",
        "NCT00000003",
    ]
    assert found(session, condition="breast")[-1] == "NCT00000001"


def test_a_study_that_names_the_condition_whole_ranks_above_scattered_words(
    session: Session,
) -> None:
    """A registry of many diseases matches "bowel" and "cancer" in two of them; the studies
    about bowel cancer, named so or filed under Colorectal Neoplasms, come first."""
    registry = f.study(
        "NCT00000011",
        title="A registry of patients with chronic diseases, bowel and otherwise",
        conditions=("Inflammatory Bowel Diseases", "Arthritis", "Breast Cancer", "Cancer"),
        keywords=("registry", "chronic disease"),
    )
    filed = f.study(
        "NCT00000012",
        title="Exercise after surgery",
        conditions=("Colorectal Carcinoma",),
        meshes=("Colorectal Neoplasms",),
    )
    named = f.study("NCT00000013", title="Diet study", conditions=("Bowel Cancer",))
    load(session, registry, filed, named)
    ranked = found(session, condition="bowel cancer")
    assert ranked[-1] == "NCT00000011"
    assert set(ranked[:2]) == {"NCT00000012", "NCT00000013"}
