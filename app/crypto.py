"""Encryption at rest: the one way personal data is written to and read from the database.

Two keys, both URL-safe base64 of 32 random bytes (as `Fernet.generate_key()` prints):

- `TRIALFINDER_DATA_KEY` encrypts (Fernet: AES-128-CBC with HMAC-SHA256, from the
  `cryptography` package). It may list several keys, newest first: the newest encrypts,
  any of them decrypts, and `trialfinder rotate-key` re-encrypts everything under the
  newest so the older ones can then be dropped.
- `TRIALFINDER_LOOKUP_KEY` makes keyed hashes (HMAC-SHA256) of values that must be found
  by equality (an email address for the duplicate check, the per-address limit and
  erasure). It is never rotated: every stored hash would stop matching.

Columns declared `Encrypted` or `EncryptedJSON` are encrypted on the way in and decrypted
on the way out, so code reads and writes plain values and the database never sees them.
In development both keys are made under the key folder on first run, readable by the
owner only; production refuses to start without them (see Settings). The database keeps
a check value of each key, so a process given the wrong keys refuses to start instead
of failing on the first request, or writing data no other process can read
(app/keycheck.py).

Notes a patient shares with their doctor are sealed a second time, with a key derived
from a passcode only the patient and the doctor know (`seal`, `unseal`: Argon2id, then
AES-256-GCM): without the passcode neither the data keys nor a copy of the database
open them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

from app.files import owner_only, owner_only_folder

DATA_KEY_FILE = "data.key"
LOOKUP_KEY_FILE = "lookup.key"


class KeyProblem(Exception):
    """The keys are missing, malformed, or do not open this database's data."""


def parse_key(text: str, name: str) -> bytes:
    """The 32 bytes of one key, or KeyProblem naming the setting."""
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise KeyProblem(
            f"{name} must be URL-safe base64 of 32 random bytes, as `python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'` prints"
        )
    return raw


def split_keys(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


class Vault:
    """The process's keys: encrypt and decrypt with the data keys, hash with the lookup key."""

    def __init__(self, data_keys: Sequence[str], lookup_key: str) -> None:
        """`data_keys` newest first; raises KeyProblem for a missing or malformed key."""
        if not data_keys:
            raise KeyProblem("TRIALFINDER_DATA_KEY is empty")
        for key in data_keys:
            parse_key(key, "TRIALFINDER_DATA_KEY")
        self.data_keys = tuple(data_keys)
        self.fernet = MultiFernet([Fernet(key.encode("ascii")) for key in data_keys])
        self._hmac_key = parse_key(lookup_key, "TRIALFINDER_LOOKUP_KEY")

    @classmethod
    def of(cls, data_key: str, lookup_key: str) -> Vault:
        """From the settings' text: data keys comma-separated, newest first."""
        lookup = split_keys(lookup_key)
        if len(lookup) != 1:
            raise KeyProblem("TRIALFINDER_LOOKUP_KEY must be exactly one key (it is never rotated)")
        return cls(split_keys(data_key), lookup[0])

    def encrypt(self, text: str) -> str:
        return self.fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plain text; KeyProblem when no data key opens it."""
        try:
            return self.fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise KeyProblem(
                "a stored value cannot be decrypted with TRIALFINDER_DATA_KEY"
            ) from exc

    def rotate(self, token: str) -> str:
        """The same value encrypted under the newest data key."""
        try:
            return self.fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise KeyProblem(
                "a stored value cannot be decrypted with TRIALFINDER_DATA_KEY"
            ) from exc

    def lookup(self, text: str) -> str:
        """A 64-character keyed hash: equal values give equal hashes, and without the lookup
        key nobody can test a guessed address against it."""
        return hmac.new(self._hmac_key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def load_or_make_keys(folder: Path) -> tuple[str, str]:
    """Development keys from `folder`, made on first run, owner-only (0700 folder, 0600 files)."""
    owner_only_folder(folder)
    keys = []
    for name in (DATA_KEY_FILE, LOOKUP_KEY_FILE):
        path = folder / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            owner_only(path)
            keys.append(path.read_text().strip())
            continue
        with os.fdopen(fd, "w") as out:
            key = new_key()
            out.write(key + "\n")
        keys.append(key)
    return keys[0], keys[1]


_lock = threading.Lock()
_vault: Vault | None = None


def install(vault: Vault) -> Vault:
    """Make these the process's keys (the app, the worker and the commands call this)."""
    global _vault
    with _lock:
        _vault = vault
    return vault


def vault() -> Vault:
    """The process's keys; from the environment's settings when nothing installed others."""
    current = _vault
    if current is None:
        from app.config import get_settings

        current = install(get_settings().vault())
    return current


def lookup(text: str) -> str:
    return vault().lookup(text)


class Encrypted(TypeDecorator[str]):
    """Text stored encrypted with the data key; NULL stays NULL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else vault().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else vault().decrypt(value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored encrypted with the data key; None stays NULL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else vault().encrypt(json.dumps(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(vault().decrypt(value))


# Argon2id with RFC 9106's second recommended memory and passes (64 MiB, 3 passes; about
# 0.15 s here) and one lane: with more, OpenSSL computes the lanes in threads, and two such
# derivations at once hang for good (seen with cryptography 50). The parameters travel in
# each sealed value, so raising them later still opens what was sealed before.
ARGON2_MEMORY_KIB = 65536
ARGON2_PASSES = 3
ARGON2_LANES = 1
_SEALED_PREFIX = "argon2id-aesgcm"
# Each derivation holds 64 MiB and a core for a moment: at most two run at once per process,
# so a burst queues instead of exhausting a small server's memory, and at most half the web
# threads (8 by default; `limit_derivations`) are admitted, running or queued, so a burst
# cannot tie up every web thread while the rest of the site waits: the next one is told to
# come back (Busy) at once.
DERIVATIONS_RUNNING = 2
DERIVATIONS_ADMITTED = 8
_running = threading.BoundedSemaphore(DERIVATIONS_RUNNING)
_admitted = threading.BoundedSemaphore(DERIVATIONS_ADMITTED)


def limit_derivations(web_threads: int) -> None:
    """Admit at most half of `web_threads` derivations (at least two): the app calls this
    with its thread count at start, before any request."""
    global _admitted
    _admitted = threading.BoundedSemaphore(max(DERIVATIONS_RUNNING, web_threads // 2))


class WrongPasscode(Exception):
    """The passcode does not open this sealed value (or the value is damaged)."""


class Busy(Exception):
    """Too many passcode derivations are running or queued in this process: try again soon."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(passcode: str, salt: bytes, memory: int, passes: int, lanes: int) -> bytes:
    kdf = Argon2id(salt=salt, length=32, iterations=passes, lanes=lanes, memory_cost=memory)
    if not _admitted.acquire(blocking=False):
        raise Busy
    try:
        with _running:
            return kdf.derive(passcode.encode("utf-8"))
    finally:
        _admitted.release()


def seal(plain: bytes, passcode: str, *, context: bytes) -> str:
    """`plain` encrypted under a key derived from `passcode`, as one line of text.

    `context` (the share's own key) is authenticated but not stored: a sealed value moved to
    another share does not open there. Raises Busy when the process has no room for another
    derivation now.
    """
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _derive(passcode, salt, ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES)
    sealed = AESGCM(key).encrypt(nonce, plain, context)
    params = f"m={ARGON2_MEMORY_KIB},t={ARGON2_PASSES},p={ARGON2_LANES}"
    return "$".join((_SEALED_PREFIX, params, _b64(salt), _b64(nonce), _b64(sealed)))


def unseal(text: str, passcode: str, *, context: bytes) -> bytes:
    """What `seal` sealed; WrongPasscode when this passcode (or context) does not open it,
    Busy when the process has no room for another derivation now (nothing was checked)."""
    try:
        prefix, params, salt, nonce, sealed = text.split("$")
        cost = dict(part.split("=", 1) for part in params.split(","))
        memory, passes, lanes = int(cost["m"]), int(cost["t"]), int(cost["p"])
        parts = _unb64(salt), _unb64(nonce), _unb64(sealed)
    except (ValueError, KeyError, binascii.Error) as exc:
        raise WrongPasscode("the sealed value is malformed") from exc
    if prefix != _SEALED_PREFIX:
        raise WrongPasscode("the sealed value is of an unknown kind")
    key = _derive(passcode, parts[0], memory, passes, lanes)
    try:
        return AESGCM(key).decrypt(parts[1], parts[2], context)
    except InvalidTag as exc:
        raise WrongPasscode("the passcode does not open this value") from exc
