"""inventories/reunion rewritten onto the academy file (inventory plugin eole.hapy.academy) keeps every school's
content: its inventory (groups, members, every host's variables, vaulted values as they are) equals the hand-written
one it replaced, read from git at the last commit that had it.

The comparison holds for the rewrite itself: once the reunion example changes on purpose after it, the test says so
and skips (the hand-written version is history), as it does in a checkout without that commit (a shallow clone).
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from io import BytesIO

import pytest

from tests.unit.test_hapy_ansible import REPO, ansible

HAND_WRITTEN = "3abc9bf9fa100b9c71a482c16c2cef7aace39b0c"  # last commit with the hand-written reunion
REUNION = "inventories/reunion"


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, check=False)


def test_the_academy_file_gives_the_hand_written_inventory(tmp_path):
    if git("cat-file", "-e", f"{HAND_WRITTEN}^{{commit}}").returncode != 0:
        pytest.skip(f"commit {HAND_WRITTEN} (the hand-written reunion inventory) is not in this checkout")
    since = git("log", "--format=%H", f"{HAND_WRITTEN}..HEAD", "--", REUNION).stdout.split()
    if len(since) > 1:
        pytest.skip(f"{REUNION} changed after its rewrite onto the academy file: the comparison held at {since[-1]}")
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
