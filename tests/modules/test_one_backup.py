"""one_backup_info and one_backup_restore on every endpoint, where no backup can be made: nothing listed, and a
restore of what is not a complete backup refused before any write. Backups that really run, and their restore:
tests/playbooks/test_vm_backup_restore.py (real oned with an ssh node)."""

from __future__ import annotations

from tests.modules import api
from tests.modules.lifecycle import check_bad_input, make_site, quiesce


def test_no_backup_listed_and_restore_refuses_what_is_not_a_backup(run_module, oned):
    make_site(run_module, oned)
    quiesce(oned)
    listed = run_module("one_backup_info")
    assert not listed.failed and listed["backups"] == [] and listed["changed"] is False
    assert listed.writes == {} and listed["api_calls"]["writes"] == 0
    assert run_module("one_backup_info", vm="amon")["backups"] == []

    [image] = [i for i in api.xml(oned, "one.imagepool.info", -2, -1, -1).findall("IMAGE")
               if i.findtext("NAME") == "eole-amon"]
    args = {"name": "amon-restored", "datastore": "default"}
    message = check_bad_input(run_module, oned, "one_backup_restore", {**args, "backup": int(image.findtext("ID"))},
                              "backup")
    assert "is not a backup" in message
    message = check_bad_input(run_module, oned, "one_backup_restore", {**args, "backup": 9999}, "backup")
    assert "no image with id 9999" in message
    message = check_bad_input(run_module, oned, "one_backup_restore", {**args, "backup": 1, "wait_timeout": -1},
                              "wait_timeout")
