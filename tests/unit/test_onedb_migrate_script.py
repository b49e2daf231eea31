"""roles/frontend/files/hapy_onedb_migrate.py: its decisions and how it reads oned.conf (no OpenNebula needed).

The commands themselves (onedb upgrade, oned -i + onedb sqlite2mysql) run on real oned 6.10.5/7.0.2 and a real
MariaDB in tests/upgrade/test_upgrade.py.
"""

from __future__ import annotations

import json

import pytest

from tests.unit.script_module import load_script

hom = load_script("frontend/files/hapy_onedb_migrate.py", "hapy_onedb_migrate")
UP_TO_DATE = {"shared": "7.0.0", "local": "7.0.0", "required_shared": "7.0.0", "required_local": "7.0.0", "verdict": 0}


def decide(installed="6.10.5", target="6.10", conf="sqlite", want="sqlite", sqlite=True, marker=False,
           schema=None, users=None):
    return hom.decide(installed, target, conf, want, sqlite, marker, schema, users)


@pytest.mark.parametrize(("installed", "target", "action"), [
    (None, "7.0", "none"),  # nothing installed yet: the packages task installs the inventory's release
    ("6.10.5", "6.10", "none"),
    ("6.10.5", "7.0", "upgrade"),
    ("6.8.1", "6.10", "upgrade"),  # 6.10 > 6.8: releases compare as numbers, not strings
    ("7.0.2", "6.10", "refuse-downgrade"),
    ("6.10.5", "6.8", "refuse-downgrade"),
])
def test_release_decisions(installed, target, action):
    answer = decide(installed=installed, target=target, schema=None)
    assert answer["version_action"] == action
    assert (answer["refusal"] is not None) == action.startswith("refuse")


def test_a_downgrade_is_refused_with_what_to_do_and_nothing_else_is_decided():
    answer = decide(installed="7.0.2", target="6.10", conf="sqlite", want="mysql")
    assert answer["backend_action"] == "none", "a refused run decides nothing more"
    assert "OpenNebula 7.0.2 is installed and the inventory asks for 6.10" in answer["refusal"]
    assert "Nothing was changed" in answer["refusal"] and "hapy_one.version to 7.0" in answer["refusal"]


@pytest.mark.parametrize(("verdict", "action"), [(0, "none"), (2, "db-upgrade"), (3, "refuse-db-newer")])
def test_same_release_follows_onedb_version(verdict, action):
    """The packages are already the inventory's release: onedb's verdict on the schema decides (2: a run stopped
    between the packages and onedb upgrade; 3: a database written by a newer release)."""
    schema = {**UP_TO_DATE, "shared": "6.10.0", "verdict": verdict}
    assert decide(installed="7.0.2", target="7.0", schema=schema)["version_action"] == action


@pytest.mark.parametrize(("conf", "want", "sqlite", "marker", "users", "action"), [
    ("sqlite", "sqlite", True, False, None, "none"),
    ("sqlite", "mysql", True, False, 0, "sqlite2mysql"),
    ("sqlite", "mysql", False, False, None, "none"),  # never started on SQLite: nothing to move
    ("sqlite", "mysql", True, False, 3, "refuse-mysql-not-empty"),
    ("mysql", "mysql", True, True, 3, "sqlite2mysql"),  # a migration that failed half-way goes on
    ("mysql", "mysql", False, False, None, "none"),
    ("mysql", "sqlite", False, False, None, "refuse-mysql-to-sqlite"),
    ("mysql", "sqlite", True, True, None, "refuse-mysql-to-sqlite"),
    (None, "mysql", False, False, None, "none"),  # fresh host
])
def test_backend_decisions(conf, want, sqlite, marker, users, action):
    answer = decide(installed="7.0.2", target="7.0", conf=conf, want=want, sqlite=sqlite, marker=marker,
                    schema=UP_TO_DATE, users=users)
    assert answer["backend_action"] == action
    assert (answer["refusal"] is not None) == action.startswith("refuse")


def test_a_quote_in_the_mysql_password_stops_the_migration_before_anything():
    """onedb sqlite2mysql dumps the MySQL side with mysqldump -p'<password>' through a shell (found on real oned)."""
    answer = hom.decide("7.0.2", "7.0", "sqlite", "mysql", True, False, UP_TO_DATE, 0, quote_in_password=True)
    assert answer["backend_action"] == "refuse-password-quote"
    assert "single quote" in answer["refusal"] and "nothing was changed" in answer["refusal"]


def test_reads_the_db_vector_of_oned_conf(tmp_path):
    conf = tmp_path / "oned.conf"
    conf.write_text('# DB = [ BACKEND = "mysql" ]\nLOG = [ SYSTEM = "file" ]\n'
                    'DB = [ BACKEND = "mysql",\n       SERVER  = "db.lan", # the school\'s server\n'
                    '       PORT    = 3307,\n       USER    = "one",\n       PASSWD  = "p\\"w,#x]",\n'
                    '       DB_NAME = "opennebula" ]\n')
    assert hom.read_db_config(str(conf)) == {"BACKEND": "mysql", "SERVER": "db.lan", "PORT": "3307", "USER": "one",
                                             "PASSWD": 'p"w,#x]', "DB_NAME": "opennebula"}
    assert hom.onedb_args(hom.read_db_config(str(conf))) == ["--server", "db.lan", "--username", "one",
                                                              "--dbname", "opennebula", "--port", "3307"]
    conf.write_text('DB = [ BACKEND = "sqlite", TIMEOUT = 2500 ]\n')
    assert hom.read_db_config(str(conf)) == {"BACKEND": "sqlite", "TIMEOUT": "2500"}
    conf.write_text('PORT = 2633\n')
    assert hom.read_db_config(str(conf)) == {"BACKEND": "sqlite"}, "oned's default backend"
    assert hom.read_db_config(str(tmp_path / "missing")) is None


def test_status_of_a_host_without_opennebula(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ONE_LOCATION", str(tmp_path))
    assert hom.main(["status", "--target-version", "7.0", "--target-backend", "mysql"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert (answer["installed"], answer["version_action"], answer["backend_action"]) == (None, "none", "none")


def test_bad_target_version_is_a_settings_error(capsys):
    assert hom.main(["status", "--target-version", "seven", "--target-backend", "mysql"]) == 3
    assert "not a release" in json.loads(capsys.readouterr().out)["msg"]
