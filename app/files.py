"""Files that hold personal data or keys are the owner's only (0600 files, 0700 folders).

New ones are created so; ones made by an earlier version, or by hand, are tightened when
the app next uses them, so an upgrade does not leave a world-readable database behind.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def owner_only(path: Path) -> None:
    """Take every permission away from group and others, if the path exists."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        os.chmod(path, mode & ~0o077)


def owner_only_folder(path: Path) -> None:
    """Make the folder (0700) if it is missing, or tighten it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    owner_only(path)


def create_owner_only(path: Path) -> None:
    """Create the file (0600) if it is missing, or tighten it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        owner_only(path)
