"""Helpers for the cluster scenario's verifier: reach any instance, read the converge's records."""

from __future__ import annotations

import json

import pytest
import testinfra

SAN_LUN = "/srv/hapy-san/lun0.img"
CLUSTER = "hapy9740099z"
FS_NAME = "one-datastores"
TARGET_IQN = "iqn.2026-11.fr.ac-reunion:san.9740099z"
CHAP_USER = "hapy-9740099z"
CHAP_SECRET = "molecule-chap-secret-9740099z"  # test-only, same value as inventory/group_vars/all.yml
NODES = ("hapy-node1", "hapy-node2")


def instance(name: str):
    """A testinfra host for one molecule instance (podman exec: much faster than the ansible backend)."""
    return testinfra.get_host(f"podman://{name}")


@pytest.fixture(scope="module")
def kernel():
    """What the converge found this kernel can do (hapy-node1's record)."""
    return json.loads(instance("hapy-node1").file("/var/lib/hapy-test/kernel.json").content_string)
