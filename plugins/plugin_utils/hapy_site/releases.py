# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EOLE releases: which release a guest runs, and what that release ships (modules, first-boot tooling, firmware).

The release is a guest variable (``hapy_guests[].eole_release``) with school and academy defaults
(``hapy_school.eole_release``, ``hapy_academy.eole_release``), as EOLE images are per release.
Facts come from EOLE's own files (../shared/HAPY.md, "Corrections").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DEFAULT_RELEASE = "2.9.0"
"""The release of a guest that declares none (nor its school or academy)."""

RELEASE_RE = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")


def release_key(release: str) -> tuple[int, int, int]:
    """``"2.9"`` / ``"2.9.0"`` as a comparable tuple ``(2, 9, 0)``."""
    parts = [int(p) for p in str(release).split(".")]
    return (parts + [0, 0, 0])[:3]  # type: ignore[return-value]


def release_of(guest: Mapping[str, Any], school: Mapping[str, Any] | None = None,
               academy: Mapping[str, Any] | None = None) -> str:
    """The EOLE release of a guest: its ``eole_release``, else its school's, else its academy's, else
    :data:`DEFAULT_RELEASE` (as text, as declared)."""
    for scope in (guest, school or {}, academy or {}):
        value = scope.get("eole_release") if isinstance(scope, Mapping) else None
        if value not in (None, ""):
            return str(value)
    return DEFAULT_RELEASE


def at_least(release: str, minimum: str) -> bool:
    """Whether ``release`` is ``minimum`` or newer."""
    return release_key(release) >= release_key(minimum)
