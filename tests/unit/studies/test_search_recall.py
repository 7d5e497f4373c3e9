"""Recall of the forgiving search on the real records, per kind of query (docs/search.md).

The public query set is read from ../shared at test time, never copied here. Following its
"about": a spelling or possessive form should find the studies that the form written in
the registry finds; a lay name should find the recruiting studies one of whose condition
MeSH terms or ancestors it lists. Recall is pooled over the queries of a kind: studies
found and relevant over studies relevant.

Lay names are also measured without the curated table (the packages' vocabularies and the
registry's readings alone) and on the project's own lay names (tests/data/search), which
share no word with the public set: the public set's lay names are in the curated table, so
its figure alone would overstate what to expect from words nobody listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ctgov.importer import import_records, read_records
from app.studies import lay_names, search
from app.studies.models import Study
from app.studies.search import SearchParams, search_studies
from tests.conftest import NOW

TARGETS = {"spelling": 0.95, "possessives": 0.95, "lay_names": 0.8}
OWN_LAY_NAMES = Path(__file__).parents[2] / "data" / "search" / "lay_names_ours.json"
# Floors for the figures docs/search.md reports below the target, so that a change which
# loses recall there fails here too: the project's own lay names, with everything shipped
# (measured 0.585) and without the curated table (0.490; 0.410 with HPO alone).
OWN_FLOORS = {"shipped": 0.55, "without curated": 0.45}


def _found(session: Session, condition: str) -> set[str]:
    found: set[str] = set()
    page = 1
    while True:
        params = SearchParams(condition=condition, status=["RECRUITING"], page=page, page_size=100)
        result = search_studies(session, params)
        found |= {hit.study.nct_id for hit in result.hits}
        if page >= result.pages:
            return found
        page += 1


def _registry_form(possessive: str) -> str:
    """How the registry writes a possessive name: "Bell's palsy" -> "Bell palsy"."""
    return possessive.replace("'s", "").replace("'", "")


def _pooled(pairs: Iterable[tuple[set[str], set[str]]]) -> tuple[float, int]:
    relevant = found = 0
    for got, wanted in pairs:
        relevant += len(wanted)
        found += len(got & wanted)
    return (found / relevant if relevant else 1.0), relevant


def measure(session: Session, queries: dict[str, object]) -> dict[str, tuple[float, int]]:
    """Recall and the number of relevant (query, study) pairs, per kind."""
    spelling = queries["spelling"]
    possessives = queries["possessives"]
    lay_names = queries["lay_names"]
    assert isinstance(spelling, list)
    assert isinstance(possessives, list)
    assert isinstance(lay_names, dict)
    recruiting = session.scalars(select(Study).where(Study.overall_status == "RECRUITING")).all()
    meshes = {s.nct_id: set(s.mesh_terms) | set(s.mesh_ancestors) for s in recruiting}
    return {
        "spelling": _pooled(
            (_found(session, variant), _found(session, registry))
            for registry, *variants in spelling
            for variant in variants
        ),
        "possessives": _pooled(
            (_found(session, name), _found(session, _registry_form(name))) for name in possessives
        ),
        "lay_names": _pooled(
            (_found(session, name), {n for n, m in meshes.items() if m & set(descriptors)})
            for name, descriptors in lay_names.items()
        ),
    }


def test_recall_per_kind_meets_targets(session: Session, shared_studies: Path) -> None:
    query_file = shared_studies.parent.parent / "search" / "queries.json"
    if not query_file.exists():
        pytest.skip(f"query set not found at {query_file}")
    queries = json.loads(query_file.read_text(encoding="utf-8"))
    report = import_records(session, read_records([str(shared_studies)]), now=NOW)
    assert report.rejected == []
    recall = measure(session, queries)
    print({kind: f"{r:.3f} of {n}" for kind, (r, n) in recall.items()})
    below = {k: r for k, (r, _) in recall.items() if r < TARGETS[k]}
    assert below == {}, f"recall below target: {below}"

    own = json.loads(OWN_LAY_NAMES.read_text(encoding="utf-8"))
    assert not set(own["lay_names"]) & set(queries["lay_names"]), "our set must use other words"
    only_lay: dict[str, object] = {"spelling": [], "possessives": []}
    figures = {"shipped": measure(session, {**only_lay, "lay_names": own["lay_names"]})}
    packages_only = partial(lay_names.alternatives, sources=("mesh", "hpo"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "alternatives", packages_only)
        public_alone = measure(session, {**only_lay, "lay_names": queries["lay_names"]})
        figures["without curated"] = measure(session, {**only_lay, "lay_names": own["lay_names"]})
    own_figures = {f"own lay names {k}": v["lay_names"] for k, v in figures.items()}
    print({"public lay names without curated": public_alone["lay_names"], **own_figures})
    low = {k: v["lay_names"][0] for k, v in figures.items() if v["lay_names"][0] < OWN_FLOORS[k]}
    assert low == {}, f"own lay-name recall fell: {low}"
