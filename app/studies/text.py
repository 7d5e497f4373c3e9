"""Text normalisation shared by the importer (what is indexed) and search (what is asked).

Both sides go through `search_text` so that SQLite and PostgreSQL see the same plain,
lower-case, accent-free words separated by single spaces; the engines then only stem.
`search_text` also forgives how people write: a possessive "'s" is dropped rather than
left as a word "s", and British spellings are folded to the American ones the registry
uses ("leukaemia" -> "leukemia"). Folding is applied to both sides, so a word folded to
something that is not a real word still meets itself.

`normalize` is the plain form without that folding: the importer recognises sites by it,
and keys must not change when the search rules do.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^0-9a-z]+")
# "Crohn's", "Alzheimer\u2019s", "Graves'", "Guillain-Barré's": the apostrophe and a following
# "s" belong to the word before. Any of the apostrophes people type, after a letter.
_POSSESSIVE = re.compile(r"(?<=[^\W\d_])['\u2019\u02bc`\u00b4](?:s\b)?", re.IGNORECASE)


def normalize(text: str) -> str:
    """Lower-case, strip accents, keep letters and digits: "Sjögren's" -> "sjogren s"."""
    if text.isascii():
        return _NON_WORD.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", ascii_only).strip()


# --- British to American spelling --------------------------------------------------------
# Rules rather than a list of words, so that words nobody listed fold too ("haemorrhage",
# "oestrogen", "diarrhoea", "counselling"). Each rule is written narrowly enough that it
# does not merge two different American words; tests/unit/studies/test_text.py checks the
# rules on pairs of spellings and on words that must not change.
_IRREGULAR = {
    "aluminium": "aluminum",
    "ageing": "aging",
    "grey": "gray",
    "mould": "mold",
    "moult": "molt",
    "plough": "plow",
    "sceptic": "skeptic",
    "tyre": "tire",
    "practise": "practice",
    "defence": "defense",
    "licence": "license",
    "offence": "offense",
    "pretence": "pretense",
    "manoeuvre": "maneuver",
    "foetus": "fetus",
    "odour": "odor",
    "odours": "odors",
    "timbre": "timbre",
    "timbres": "timbres",
}
_SPELLING_RULES: list[tuple[re.Pattern[str], str]] = [
    # ae: haem-, paed-, leukaemia, caesarean, anaesthesia, aetiology, orthopaedic; a Latin
    # plural's final "ae" ("vertebrae") stays.
    (re.compile(r"ae(?=[a-z])(?!d$)"), "e"),
    # oe: oedema, oesophagus, oestrogen, foetal, coeliac, diarrhoea, dyspnoea, homoeopathy;
    # never at a word's end or before a final "s" or "d" ("toe", "does", "canoed"), nor in
    # "poet", "poem".
    (re.compile(r"(?:^|(?<=[^aeioup]))oe(?!s?$|d$)"), "e"),
    # leucocyte, leucopenia: Latin "leuc-" is "leuk-".
    (re.compile(r"^leuc"), "leuk"),
    # sulphate, sulphur, sulphonamide.
    (re.compile(r"sulph"), "sulf"),
    # tumour, behaviour(al), colour, labour, favourite; "four", "hour", "scoured" stay.
    (re.compile(r"(?<=[a-z]{3})our(?=(?:s|al|ally|ed|ing|able|ite|ites|less)?$)"), "or"),
    # centre, fibre, litre, metre, theatre, calibre (and plurals).
    (re.compile(r"(?<=[a-z]{2})([tb])re(s?)$"), r"\1er\2"),
    # catalogue, analogue, dialogue.
    (re.compile(r"(?<=[a-z]{3})ogue(s?)$"), r"og\1"),
    # programme, kilogramme.
    (re.compile(r"(?<=gra)mme(s?)$"), r"m\1"),
    # randomised, hospitalisation, immunise, paralyse, analysed: -ise/-yse are -ize/-yze.
    (re.compile(r"(?<=[a-z]{3})([iy])s(e|es|ed|ing|ation|ations|er|ers)$"), r"\1z\2"),
    # counselling, signalling, modelling, labelled, travelled: a British double "l" after
    # a vowel, consonants and a, e or o; "filling", "spelling", "refilled" keep theirs.
    (re.compile(r"^(.*[aeiou][^aeiou]+[aeo])ll(ed|ing|er|ers|or|ors)$"), r"\1l\2"),
]


@lru_cache(maxsize=1 << 16)
def fold_spelling(word: str) -> str:
    """The American spelling of a normalised word: "oesophageal" -> "esophageal".

    Cached: the lay-name tables fold some 200,000 words, most of them repeats.
    """
    irregular = _IRREGULAR.get(word)
    if irregular is not None:
        return irregular
    for pattern, replacement in _SPELLING_RULES:
        word = pattern.sub(replacement, word)
    return word


def search_text(text: str) -> str:
    """What search indexes and asks: `normalize` without possessives, spellings folded."""
    plain = normalize(_POSSESSIVE.sub("", text))
    return " ".join(fold_spelling(w) for w in plain.split())


def words(text: str) -> list[str]:
    """The words search matches on, in order: `search_text` split."""
    return search_text(text).split()
