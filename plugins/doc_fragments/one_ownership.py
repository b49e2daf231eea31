# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the owner, group and permissions options of owned OpenNebula objects."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  owner:
    description:
      - Name (or id) of the user owning the object (C(one.<kind>.chown)). Omit to leave it alone; a new object
        belongs to the API user until then.
      - A site's objects are typically owned by the site's user or left to C(oneadmin) and shared through O(group).
    type: str
  group:
    description:
      - Name (or id) of the group of the object (C(one.<kind>.chown)), e.g. the group of the school's VDC.
        Omit to leave it alone.
    type: str
  permissions:
    description:
      - Permissions as three octal digits for owner, group and others, each the sum of USE (4), MANAGE (2) and
        ADMIN (1), as C(one* chmod) takes them, e.g. C("640"). Omit to leave them alone.
    type: str
"""
