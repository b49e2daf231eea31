# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure site logic of a Hâpy school, split by subject. Nothing here talks to a host or to OpenNebula: every
function takes inventory data (plain dicts and lists) and returns plain data, for the filter and action plugins on
the controller and for unit tests. (``module_utils`` is the OpenNebula layer only.)

* :mod:`.common` — the error type, value checks, academy settings, school names;
* :mod:`.plan` — the network plan and the checks of declared networks;
* :mod:`.guests` — guest declarations and their fixed addresses;
* :mod:`.validation` — one school's inventory as a whole;
* :mod:`.academy` — the schools of an academy against each other;
* :mod:`.academy_file` — the compact academy file (one entry per school) as inventory schools;
* :mod:`.eole_config` — EOLE's ``config.eol`` of a guest and its schema check;
* :mod:`.context` — the guest as OpenNebula boots it (NICs, CONTEXT, secrets, boot stages; ``first_boot.sh``);
* :mod:`.zephir` — Zéphir mode: the guests a Zéphir declares (Hâpy's automatic deployment);
* :mod:`.shadow_crypt` — SHA-512 crypt for the guests' password hash.

The inventory model and the plan layout are documented in ``docs/inventory.md``.
"""
