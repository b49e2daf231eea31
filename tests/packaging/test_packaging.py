"""The collection as AWX gets it: the artifact (galaxy.yml), installed and run from the installed copy, and the
execution environment's build context (ansible-builder) with its requirements resolved.

Everything runs offline except the last check, which asks PyPI to resolve the execution environment's Python
requirements (as the image build would). The collections the roles need are taken from this venv's `ansible`
package (no Galaxy server is reachable here).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.oned import OnedServer

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SITE_COLLECTIONS = Path(yaml.__file__).parents[1] / "ansible_collections"  # the `ansible` package's collections
PINNED = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (REPO / "requirements/python.txt").read_text(), re.M))
DEPENDENCIES = yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
                            env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONWARNINGS": "ignore",
                                 **(env or {})})
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """scripts/build-ee.sh --out <tmp>: the artifact and the build context, outside the checkout."""
    out = tmp_path_factory.mktemp("ee")
    run("bash", "scripts/build-ee.sh", "--out", str(out), cwd=REPO)
    return out


@pytest.fixture(scope="module")
def isolated(tmp_path_factory):
    """An Ansible set-up that sees only what it is given: an empty ansible.cfg, the collections the roles need
    (from this venv), no collection found on sys.path or in ~/.ansible."""
    root = tmp_path_factory.mktemp("isolated")
    deps = root / "deps" / "ansible_collections"
    for name in DEPENDENCIES:
        namespace, collection = name.split(".")
        (deps / namespace).mkdir(parents=True, exist_ok=True)
        (deps / namespace / collection).symlink_to(SITE_COLLECTIONS / namespace / collection)
    (root / "ansible.cfg").write_text("[defaults]\n")
    installed = root / "installed"
    env = {"ANSIBLE_CONFIG": str(root / "ansible.cfg"), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
           "ANSIBLE_COLLECTIONS_PATH": f"{installed}:{root / 'deps'}", "ANSIBLE_NOCOLOR": "1"}
    return root, installed, env


def test_the_roles_need_exactly_the_declared_collections():
    used = set()
    for path in [*REPO.glob("roles/*/tasks/*.yml"), *REPO.glob("playbooks/*.yml")]:
        used |= set(re.findall(r"^\s*-?\s*((?!ansible\.builtin|eole\.hapy)[a-z_]+\.[a-z_]+)\.[a-z_0-9]+:\s*$",
                               path.read_text(), re.M))
    assert used == set(DEPENDENCIES)


def test_the_artifact_ships_the_collection_and_not_the_harness(built):
    with tarfile.open(built / "dist" / "eole-hapy.tar.gz") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    tops = {name.split("/")[0] for name in names}
    assert {"plugins", "roles", "playbooks", "meta", "docs", "inventories", "MANIFEST.json"} <= tops
    assert not tops & {"molecule", ".ci", "tests", "scripts", "requirements", ".venv", ".collections", ".cache"}
    assert not [n for n in names if n.endswith(".vault-pass.demo")], "no vault password file in an artifact"
    assert {"meta/ee-requirements.txt", "meta/execution-environment.yml", "plugins/inventory/academy.py",
            "plugins/callback/fleet_report.py"} <= set(names)
    assert manifest["collection_info"]["dependencies"] == DEPENDENCIES


def test_the_installed_artifact_runs_its_modules_and_plugins(built, isolated, tmp_path):
    root, installed, env = isolated
    run("ansible-galaxy", "collection", "install", "--offline", "-p", str(installed),
        str(built / "dist" / "eole-hapy.tar.gz"), cwd=root, env=env)
    copy = installed / "ansible_collections" / "eole" / "hapy"
    assert (copy / "MANIFEST.json").is_file() and not copy.is_symlink()
    server = OnedServer(host="127.0.0.1", port=0, credentials="oneadmin:installed").start()
    try:
        args = ("name=CR_installed vn_mad=bridge bridge=br-inst "
                f"api_url={server.url} api_username=oneadmin api_password=installed")
        first = run("ansible", "localhost", "-m", "eole.hapy.one_vnet", "-a", args, "-vvv", cwd=root, env=env)
        again = run("ansible", "localhost", "-m", "eole.hapy.one_vnet", "-a", args, cwd=root, env=env)
    finally:
        server.stop()
    assert f"Using module file {copy}/plugins/modules/one_vnet.py" in first.stdout
    assert '"changed": true' in first.stdout and '"changed": false' in again.stdout
    doc = run("ansible-doc", "-t", "inventory", "eole.hapy.academy", cwd=root, env=env).stdout
    assert str(copy / "plugins/inventory/academy.py") in doc
    graph = run("ansible-inventory", "-i", str(copy / "inventories/demo"), "--graph", cwd=root, env=env).stdout
    assert "etb_9749999z" in graph


def test_the_execution_environment_context_and_its_requirements_resolve(built, isolated):
    """ansible-builder's context: the EE's pins are requirements/python.txt's, the collection comes from its artifact;
    then what the image build does, without a container: the galaxy stage (offline, the roles' collections as
    installed here), the builder's introspection of the installed collections, and pip resolving the result."""
    root, _, env = isolated
    build = built / "dist" / "ee-context" / "_build"
    pins = dict(line.split("==") for line in (build / "requirements.txt").read_text().split())
    assert pins == {name: PINNED[name] for name in ("pyone", "netaddr", "jinja2")}
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())["collections"]
    assert {"name": "collections/eole-hapy.tar.gz", "type": "file"} in galaxy
    assert not [c for c in galaxy if c.get("source") == "."], "never the checkout itself"
    assert {c["name"]: c["version"] for c in galaxy if "version" in c} == DEPENDENCIES
    assert (build / "collections" / "eole-hapy.tar.gz").stat().st_size > 10_000
    containerfile = (built / "dist" / "ee-context" / "Containerfile").read_text()
    assert 'ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    assert PINNED["ansible-core"] == "2.19.14" and PINNED["ansible-runner"] == "2.4.3"

    stage = root / "galaxy-stage"
    installed = run("ansible-galaxy", "collection", "install", "--offline", "-r", "requirements.yml", "-p",
                    str(stage), cwd=build, env={**env, "ANSIBLE_COLLECTIONS_PATH": f"{stage}:{root / 'deps'}"})
    assert "eole.hapy:0.1.0 was installed successfully" in installed.stdout
    for name, version in DEPENDENCIES.items():
        assert re.search(rf"'{re.escape(name)}:[0-9.]+' is already installed", installed.stdout), (name, version)
    introspected = yaml.safe_load(run(sys.executable, str(build / "scripts" / "introspect.py"), "introspect",
                                      "--user-pip=requirements.txt", "--user-bindep=bindep.txt", str(stage),
                                      cwd=build).stdout)
    python = [line.split("#")[0].strip() for line in introspected["python"]]
    assert {"pyone>=7.0.0", "netaddr>=1.0.0"} <= set(python), "the collection's own requirements (meta/)"
    (root / "ee-requirements.txt").write_text("\n".join(python) + "\n")
    run(sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report",
        str(root / "resolved.json"), "-r", str(root / "ee-requirements.txt"), cwd=root)
    resolved = {i["metadata"]["name"].lower(): i["metadata"]["version"]
                for i in json.loads((root / "resolved.json").read_text())["install"]}
    assert (resolved["pyone"], resolved["netaddr"]) == (PINNED["pyone"], PINNED["netaddr"])
