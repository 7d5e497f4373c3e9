"""Sealing shared notes with a passcode (app/crypto.py `seal`, `unseal`) and the passcode
rules (app/notes/passcodes.py)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import crypto
from app.crypto import (
    ARGON2_LANES,
    ARGON2_MEMORY_KIB,
    ARGON2_PASSES,
    DERIVATIONS_ADMITTED,
    Busy,
    WrongPasscode,
    seal,
    unseal,
)
from app.notes import passcodes

NOTES = b"My note: ask about the travel costs"


def test_a_sealed_value_opens_with_its_passcode_and_context_only() -> None:
    sealed = seal(NOTES, "apple-river-stone-candle", context=b"share-1")
    assert NOTES not in sealed.encode()
    assert sealed.startswith(
        f"argon2id-aesgcm$m={ARGON2_MEMORY_KIB},t={ARGON2_PASSES},p={ARGON2_LANES}$"
    )
    assert unseal(sealed, "apple-river-stone-candle", context=b"share-1") == NOTES
    with pytest.raises(WrongPasscode):
        unseal(sealed, "apple-river-stone-candlE", context=b"share-1")
    with pytest.raises(WrongPasscode):  # moved to another share's row
        unseal(sealed, "apple-river-stone-candle", context=b"share-2")


def test_the_same_notes_seal_differently_each_time() -> None:
    first, second = (seal(NOTES, "same passcode", context=b"c") for _ in range(2))
    assert first != second  # a fresh salt and nonce each time


@pytest.mark.parametrize(
    "damaged",
    [
        "",
        "argon2id-aesgcm",
        "other$m=1,t=1,p=1$AA$AA$AA",
        "argon2id-aesgcm$m=x,t=1,p=1$AA$AA$AA",
        "argon2id-aesgcm$m=65536,t=3$AA$AA$AA",
    ],
)
def test_a_damaged_value_is_a_wrong_passcode_never_a_crash(damaged: str) -> None:
    with pytest.raises(WrongPasscode):
        unseal(damaged, "any passcode", context=b"c")


def test_a_flipped_byte_does_not_open() -> None:
    sealed = seal(NOTES, "same passcode", context=b"c")
    head, body = sealed.rsplit("$", 1)
    flipped = head + "$" + ("B" if body[0] != "B" else "C") + body[1:]
    with pytest.raises(WrongPasscode):
        unseal(flipped, "same passcode", context=b"c")


def test_many_derivations_at_once_all_finish_or_are_turned_away() -> None:
    """Twenty passcode checks at the same moment (one link tried from many places) end in
    seconds: those admitted are checked, the rest are told at once to come back (Busy);
    none waits for ever (Argon2 lanes in OpenSSL threads once hung here)."""
    sealed = seal(NOTES, "right passcode", context=b"c")

    def attempt(n: int) -> str:
        try:
            unseal(sealed, "right passcode" if n % 2 else "wrong passcode", context=b"c")
        except WrongPasscode:
            return "wrong" if n % 2 == 0 else "ERROR: a right passcode refused"
        except Busy:
            return "busy"
        return "right" if n % 2 else "ERROR: a wrong passcode accepted"

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = Counter(pool.map(attempt, range(20), timeout=60))
    assert set(results) <= {"right", "wrong", "busy"}, results
    assert results["right"] + results["wrong"] >= DERIVATIONS_ADMITTED
    assert time.monotonic() - started < 60


def test_a_full_process_turns_a_derivation_away_without_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    full = threading.BoundedSemaphore(1)
    full.acquire()
    monkeypatch.setattr(crypto, "_admitted", full)
    started = time.monotonic()
    with pytest.raises(Busy):
        seal(NOTES, "any passcode", context=b"c")
    assert time.monotonic() - started < 1
    full.release()
    assert unseal(seal(NOTES, "any passcode", context=b"c"), "any passcode", context=b"c")


def test_generated_passcodes_are_four_plain_words() -> None:
    words = set(passcodes.words())
    assert len(words) == len(passcodes.words()) >= 512
    made = {passcodes.generate() for _ in range(200)}
    assert len(made) == 200
    for passcode in made:
        parts = passcode.split("-")
        assert len(parts) == 4
        assert set(parts) <= words
        assert passcodes.problem(passcode) is None


@pytest.mark.parametrize(
    ("passcode", "problem"),
    [
        ("", passcodes.TOO_SHORT),
        ("1234567", passcodes.TOO_SHORT),
        ("   1234567   ", passcodes.TOO_SHORT),
        ("12345678", None),
        ("x" * 200, None),
        ("x" * 201, passcodes.TOO_LONG),
    ],
)
def test_passcode_rules(passcode: str, problem: str | None) -> None:
    assert passcodes.problem(passcode) == problem


@pytest.mark.parametrize(("threads", "admitted"), [(16, 8), (40, 20), (3, 2), (1, 2)])
def test_derivations_admitted_are_half_the_web_threads(
    monkeypatch: pytest.MonkeyPatch, threads: int, admitted: int
) -> None:
    monkeypatch.setattr(crypto, "_admitted", crypto._admitted)  # restored afterwards
    crypto.limit_derivations(threads)
    taken = 0
    while crypto._admitted.acquire(blocking=False):
        taken += 1
    assert taken == admitted
