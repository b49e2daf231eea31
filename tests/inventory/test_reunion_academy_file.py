"""inventories/reunion on the academy file (inventory plugin eole.hapy.academy) keeps every school's content: its
inventory (groups, members, every host's variables, vaulted values as they are) equals the hand-written one, read
from git.

The hand-written version compared is eole-gen's last (43fbd4b): the one main's rewrite onto the academy file
started from (3abc9bf, where the rewrite's own proof held) plus eole-gen's changes to it (EOLE releases: no Horus
but 9740004D's on 2.7.2, 9740009J's AmonEcole on 2 zones, ac-reunion's ERA model 5zones-974, proxy zones, admin
networks, mail relay), which the merge of main into eole-gen carried into the academy file. The lineage is checked
from git too. The comparison holds for the rewrite and that merge: once the reunion example changes on purpose
after them, the test says so and skips (the hand-written version is history), as it does in a checkout without
those commits (a shallow clone).
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from io import BytesIO

import pytest

from tests.unit.test_hapy_ansible import REPO, ansible

HAND_WRITTEN = "43fbd4b57b63cb2fbc69b65b85eeadf13bc5e2e8"  # eole-gen's last hand-written reunion
REWRITE_BASE = "3abc9bf9fa100b9c71a482c16c2cef7aace39b0c"  # the hand-written reunion main's rewrite started from
EOLE_GEN_BASE = "e86255800253364ad3c0ec9d6d3a82daa26714d6"  # where eole-gen branched from main
EOLE_GEN_CHANGE = "ee3f2a3d7e3bd299fe5ceffcb5d0e33b173a93ac"  # eole-gen's one change to the hand-written reunion
ACADEMY_FILE_COMMITS = {
    "58906f4c48cde72595585406b4a9aeeda75b0f08",  # main: reunion rewritten onto the academy file
    "90eb3c533a8d63a9680d93ab7e2dcf2f28d10136",  # eole-gen: merge of main, eole-gen's changes in the academy file
}
REUNION = "inventories/reunion"


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, check=False)


def test_the_academy_file_gives_the_hand_written_inventory(tmp_path):
    needed = (HAND_WRITTEN, REWRITE_BASE, EOLE_GEN_BASE, *ACADEMY_FILE_COMMITS)
    if any(git("cat-file", "-e", f"{commit}^{{commit}}").returncode != 0 for commit in needed):
        pytest.skip("the commits of the hand-written reunion inventory and its rewrite are not in this checkout")
    since = set(git("log", "--format=%H", f"{HAND_WRITTEN}..HEAD", "--", REUNION).stdout.decode().split())
    if since - ACADEMY_FILE_COMMITS:
        pytest.skip(f"{REUNION} changed after its rewrite onto the academy file and eole-gen's merge: "
                    f"{', '.join(sorted(since - ACADEMY_FILE_COMMITS))}")
    # Lineage: the hand-written reunion at the rewrite's base is the one eole-gen branched from, and eole-gen
    # changed it in one commit, so HAND_WRITTEN is the rewrite's starting point plus eole-gen's changes.
    assert git("diff", "--quiet", REWRITE_BASE, EOLE_GEN_BASE, "--", REUNION).returncode == 0
    changes = git("log", "--format=%H", f"{EOLE_GEN_BASE}..{HAND_WRITTEN}", "--", REUNION).stdout.decode().split()
    assert changes == [EOLE_GEN_CHANGE]

    archive = git("archive", "--format=tar", HAND_WRITTEN, REUNION).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(tmp_path, filter="data")
    old = tmp_path / REUNION
    assert (old / "hosts.yml").is_file() and not (old / "academy.yml").exists()
    assert (REPO / REUNION / "academy.yml").is_file() and not (REPO / REUNION / "hosts.yml").exists()

    listed = {name: json.loads(ansible("ansible-inventory", "-i", str(path), "--list").stdout)
              for name, path in (("hand-written", old), ("academy file", REPO / REUNION))}
    hand, academy = listed["hand-written"], listed["academy file"]
    assert len([g for g in hand if g.startswith("etb_")]) == 12
    assert academy["_meta"]["hostvars"] == hand["_meta"]["hostvars"], "every host's variables, vault ciphertexts too"
    assert {g: v for g, v in academy.items() if g != "_meta"} == {g: v for g, v in hand.items() if g != "_meta"}
    # eole-gen's changes are in both (not a comparison of two unchanged inventories)
    hostvars = academy["_meta"]["hostvars"]
    assert hostvars["hapy-9740001a"]["hapy_academy"]["era_models"] == ["5zones-974"]
    assert "{{ hapy_guest_horus }}" in hostvars["hapy-9740004d"]["hapy_guests"]
    assert "{{ hapy_guest_horus }}" not in hostvars["hapy-9740005e"]["hapy_guests"]
    assert hostvars["hapy-9740009j"]["hapy_guests"][0]["nics"] == [{"network": "wan"}, {"network": "pedago"}]
