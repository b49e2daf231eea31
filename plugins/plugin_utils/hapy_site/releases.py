# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""EOLE releases: which release a guest runs, and what that release ships (modules, firewall models, machine type,
backup software, ``___version___``).

The release is a guest variable (``hapy_guests[].eole_release``) with school and academy defaults
(``hapy_school.eole_release``, ``hapy_academy.eole_release``), as EOLE images are per release.

Every fact of :data:`RELEASES` comes from EOLE's own files, read in the public copy of EOLE's CI repository
(GitHub ``Joguig/eole``); ``docs/eole-variables.md`` lists them with the file each comes from:

* modules per release: the per-module package lists ``module/<module>/dpkg-*-<release>-amd64*`` (Horus lists stop at
  2.8.0, whose ``eole-horus`` is still 2.7.2-1; AmonEcole has none for 2.7.x and 2.8.0), the CI VM templates
  ``jenkins/exportTemplates/<machine>.<module>-<release>*`` and jobs ``jenkins/todo/[sav/]test-instance-*``;
  ``depots/2.8.1.last`` still carries ``eole-horus 2.8.0-1`` (not rebuilt) and ``depots/2.9.0.last`` no
  ``eole-horus`` at all: no Horus from 2.8.1 on;
* Ubuntu base: ``base-files`` of those package lists (10.1ubuntu2 = 18.04 ... 13ubuntu10 = 24.04);
* backup software: ``bareos`` / ``eole-bareos`` in every list from 2.5.2 on (Bacula's names are EOLE 2.3's:
  ``dataset/2.3/config-horus23.eol``); the Scribe 2.8.1 ``config.eol`` (``dataset/lfikyoto/config.eol``) sets
  ``bareos_*`` variables;
* machine type: the CI templates of 2.9.0 and 2.10.0 guests set ``OS=[MACHINE="q35", FIRMWARE=OVMF_CODE.fd]``,
  2.8.1's none (i440FX); Hâpy's own ``deploy-auto.py`` (``output/ggrandgerard/deploy-auto.py``) switches to q35/UEFI
  for ``eole_release >= 2.9.0``;
* ERA firewall models (``type_amon`` names ``/usr/share/era/modeles/<type_amon>.xml``): ``4zones`` and
  ``2zones-amonecole`` are the models EOLE's ERA tests copy from an installed Amon/AmonEcole
  (``tests/era/AM-T02-001/4zones.xml``, ``tests/era/AE-T02-004/2zones-amonecole.xml``); academy models such as
  ac-reunion's ``5zones-974`` (``amon-ac-reunion-config.eol``) are added by the site (:func:`era_models`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import Errors, HapySiteError, is_text

DEFAULT_RELEASE = "2.9.0"
"""The release of a guest that declares none (nor its school or academy)."""

RELEASE_RE = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")

MODEL_ZONES_RE = re.compile(r"^([0-9]+)zones\b")
"""ERA model names start with their number of zones (``4zones``, ``2zones-amonecole``, ``5zones-974``)."""


@dataclass(frozen=True)
class Release:
    """What one EOLE release ships, as far as the guests' generated configuration is concerned."""

    version: str  # the config.eol ___version___
    ubuntu: str
    modules: tuple[str, ...]  # the guest profiles (EOLE modules) this release ships
    machine: str  # the KVM machine type its guests run on: "pc" (i440FX, BIOS) or "q35" (UEFI)
    backup: str  # backup software inside the guests
    era_models: tuple[str, ...]  # ERA firewall models (type_amon) of its Amon/AmonEcole images


RELEASES: dict[str, Release] = {r.version: r for r in (
    Release("2.7.2", "18.04", ("amon", "scribe", "horus"), "pc", "bareos", ("4zones",)),
    Release("2.8.0", "20.04", ("amon", "scribe", "horus"), "pc", "bareos", ("4zones",)),
    Release("2.8.1", "20.04", ("amon", "scribe", "amonecole"), "pc", "bareos", ("4zones", "2zones-amonecole")),
    Release("2.9.0", "22.04", ("amon", "scribe", "amonecole"), "q35", "bareos", ("4zones", "2zones-amonecole")),
    Release("2.10.0", "24.04", ("amon", "scribe", "amonecole"), "q35", "bareos", ("4zones", "2zones-amonecole")),
)}
"""The releases the generator supports (oldest first); anything else is refused before any write."""

GATEWAY_MODEL_SUFFIX = {"amon": "", "amonecole": "-amonecole"}
"""Profile -> how its EOLE-shipped ERA models end (an AmonEcole's models are ``<n>zones-amonecole``)."""


def release_key(release: str) -> tuple[int, int, int]:
    """``"2.9"`` / ``"2.9.0"`` as a comparable tuple ``(2, 9, 0)``."""
    parts = [int(p) for p in str(release).split(".")]
    return (parts + [0, 0, 0])[:3]  # type: ignore[return-value]


def normalize(release: str) -> str:
    """``"2.9"`` -> ``"2.9.0"`` (the form of ``___version___``)."""
    return ".".join(str(p) for p in release_key(release))


def release_of(guest: Mapping[str, Any], school: Mapping[str, Any] | None = None,
               academy: Mapping[str, Any] | None = None) -> str:
    """The EOLE release of a guest: its ``eole_release``, else its school's, else its academy's, else
    :data:`DEFAULT_RELEASE` (as text, as declared)."""
    return release_source(guest, school, academy)[0]


def release_source(guest: Mapping[str, Any], school: Mapping[str, Any] | None = None,
                   academy: Mapping[str, Any] | None = None) -> tuple[str, str]:
    """The guest's release (as :func:`release_of`) and where it was declared: ``eole_release`` (the guest),
    ``hapy_school.eole_release``, ``hapy_academy.eole_release`` or ``default``."""
    for scope, where in ((guest, "eole_release"), (school or {}, "hapy_school.eole_release"),
                         (academy or {}, "hapy_academy.eole_release")):
        value = scope.get("eole_release") if isinstance(scope, Mapping) else None
        if value not in (None, ""):
            return str(value), where
    return DEFAULT_RELEASE, "default"


def at_least(release: str, minimum: str) -> bool:
    """Whether ``release`` is ``minimum`` or newer."""
    return release_key(release) >= release_key(minimum)


def supported() -> str:
    """The supported releases, for messages."""
    return ", ".join(RELEASES)


def release_format_errors(value: Any, path: str) -> Errors:
    """Errors of a declared ``eole_release``: text of the form ``2.9.0`` (or ``2.9``), a supported release."""
    if value is None:
        return []
    if isinstance(value, float):
        return [f"{path}: {value!r} is a number; expected the release as text, like '2.10.0' (YAML reads 2.10 as "
                "the number 2.1: quote it)"]
    if not isinstance(value, str) or not RELEASE_RE.match(value):
        return [f"{path}: {value!r}; expected an EOLE release like 2.9.0"]
    if normalize(value) not in RELEASES:
        return [f"{path}: {value!r} is not a supported EOLE release; expected one of {supported()}"]
    return []


def release_facts(release: str) -> Release:
    """The facts of a release (``2.9`` or ``2.9.0``); :class:`HapySiteError` for an unsupported one."""
    facts = RELEASES.get(normalize(release)) if RELEASE_RE.match(str(release)) else None
    if facts is None:
        raise HapySiteError(f"EOLE release {release!r} is not supported; expected one of {supported()}")
    return facts


def releases_with(profile: str) -> list[str]:
    """The supported releases that ship ``profile``."""
    return [version for version, facts in RELEASES.items() if profile in facts.modules]


def module_error(profile: str, release: str) -> str | None:
    """Why ``profile`` cannot run on ``release`` (None when the release ships it)."""
    facts = release_facts(release)
    if profile in facts.modules:
        return None
    shipping = releases_with(profile)
    return (f"{profile} is not shipped by EOLE {facts.version} (its modules: {', '.join(facts.modules)}; {profile} "
            f"exists in {', '.join(shipping) or 'no supported release'}); expected another profile or an "
            f"eole_release that has it")


def interface_names(release: str, count: int) -> list[str]:
    """The device names the guest's virtio NICs get, in NIC order (``nom_carte_ethN`` / ``nom_zone_ethN``).

    OpenNebula's KVM driver gives no PCI address to NICs; libvirt places them first after the PCI controllers:
    on ``pc`` (i440FX) in slots 3, 4, ... of bus 0 (``ens3``, ``ens4``, ...; the real ac-reunion Amon 2.8.1 has
    eth1..eth4 = ens4..ens7), on ``q35`` each on its own PCIe root port after the pcie-to-pci-bridge OpenNebula adds
    (buses 2, 3, ...: ``enp2s0``, ``enp3s0``, ...; EOLE's CI q35 guests show ``enp2s0``). Checked with libvirt
    9.0 on the domain OpenNebula 6.10/7.0 writes (docs/eole-variables.md).
    """
    if release_facts(release).machine == "q35":
        return [f"enp{2 + i}s0" for i in range(count)]
    return [f"ens{3 + i}" for i in range(count)]


def era_models_errors(value: Any, path: str) -> Errors:
    """Errors of a site's extra ERA models (``hapy_academy.era_models``): a list of model names for every release,
    or a mapping release -> list."""
    if value is None:
        return []
    lists = value.items() if isinstance(value, Mapping) else [(None, value)]
    errors: Errors = []
    for release, models in lists:
        where = path if release is None else f"{path}.{release}"
        if release is not None:
            errors += release_format_errors(release, f"{path} key")
        if not isinstance(models, list) or not all(is_text(m) and re.fullmatch(r"[A-Za-z0-9_.-]+", str(m))
                                                   for m in models):
            errors.append(f"{where}: {models!r}; expected a list of ERA model names like 5zones-974 "
                          "(files /usr/share/era/modeles/<name>.xml of the image)")
    return errors


def era_models(release: str, academy: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The ERA models (``type_amon`` values) accepted for ``release``: those EOLE ships, then the site's
    ``hapy_academy.era_models`` (a list for every release, or ``{release: [models]}``)."""
    facts = release_facts(release)
    extra = (academy or {}).get("era_models") or []
    if isinstance(extra, Mapping):
        extra = [m for key, models in extra.items() if normalize(str(key)) == facts.version for m in models or []]
    return tuple(dict.fromkeys([*facts.era_models, *(str(m) for m in extra)]))


def model_zones(model: str) -> int | None:
    """The number of zones an ERA model name announces (``5zones-974`` -> 5), None when it announces none."""
    match = MODEL_ZONES_RE.match(model)
    return int(match.group(1)) if match else None


def type_amon_error(model: Any, profile: str, zones: int, release: str,
                    academy: Mapping[str, Any] | None = None) -> str | None:
    """Why ``model`` cannot be the ``type_amon`` of a ``zones``-NIC gateway on ``release`` (None when it can)."""
    accepted = era_models(release, academy)
    if model not in accepted:
        return (f"{model!r} is not an ERA model of EOLE {normalize(release)}; expected one of {', '.join(accepted)} "
                "(hapy_academy.era_models adds the site's own models)")
    if model_zones(str(model)) not in (None, zones):
        return f"{model!r} is a {model_zones(str(model))}-zone model and the {profile} has {zones} NICs; expected " \
            f"a {zones}-zone model"
    return None


def type_amon_of(guest: Mapping[str, Any], zones: int, release: str, academy: Mapping[str, Any] | None = None) -> str:
    """The guest's ERA model: ``guest.eole.type_amon`` when given, else the only accepted model of ``zones`` zones
    made for its profile (EOLE's ``<n>zones`` for an Amon, ``<n>zones-amonecole`` for an AmonEcole, or a site model
    ``<n>zones-<suffix>`` for an Amon). :class:`HapySiteError` when none or several fit, or the given one is unknown."""
    profile = str(guest.get("profile"))
    declared = (guest.get("eole") or {}).get("type_amon")
    if isinstance(declared, Mapping):
        declared = declared.get("val")
    if declared is not None:
        error = type_amon_error(declared, profile, zones, release, academy)
        if error:
            raise HapySiteError(f"eole.type_amon: {error}")
        return str(declared)
    suffix = GATEWAY_MODEL_SUFFIX.get(profile, "")
    fitting = [m for m in era_models(release, academy) if model_zones(m) == zones
               and (m.endswith(suffix) if suffix else not m.endswith(GATEWAY_MODEL_SUFFIX["amonecole"]))]
    if len(fitting) != 1:
        found = f"several fit ({', '.join(fitting)})" if fitting else "none is known"
        raise HapySiteError(
            f"eole.type_amon: a {zones}-zone {profile} on EOLE {normalize(release)} needs an ERA model and {found}; "
            f"expected eole.type_amon naming one of {', '.join(era_models(release, academy))}, or the site's model "
            "added to hapy_academy.era_models")
    return fitting[0]
