# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the ``objects`` option: several objects of a module's kind converged in one run."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  objects:
    description:
      - Several objects of this kind, converged in one module run, in this order, instead of one task (or loop
        item) each. Each entry takes the options of one object (O(name) required); an option given beside
        O(objects) is shared by every entry that does not set it. The connection options are shared only.
      - One module process and one read of each pool for all of them (a loop costs a process and pool reads per
        item), with the same behaviour per object as a task of its own (check mode, C(--diff), facts).
      - Every entry is checked before any write (its options, then that the objects it names exist). One wrong
        entry fails the task, naming it, and nothing is changed.
        An object that fails against OpenNebula is reported, naming it, and the next ones are still converged (as
        the items of a loop were), except after a connection or authentication failure, when the rest are
        reported as not attempted; the task then fails.
      - The result has one entry per object in C(objects) (the usual return values of one object, under the same
        names, plus C(name) and C(api_calls)), a C(--diff) per object, and C(changed) when any object changed.
      - Mutually exclusive with O(name).
    type: list
    elements: dict
notes:
  - With O(objects), the return value C(objects) lists, per declared object in order, C(name), C(changed),
    C(api_calls) (total, writes), the object's facts under the module's usual key, C(diff), C(changes),
    C(not_applied) when any; a failed object has C(failed), C(msg) (naming it) and C(error_kind); an object after a
    connection or authentication failure has C(not_attempted).
"""
