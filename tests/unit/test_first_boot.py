"""The guests' first-boot script (plugins/plugin_utils/hapy_site/first_boot.sh) run for real, without EOLE.

Each run happens in a guest-like root of its own: a private mount and PID namespace (``unshare``), a chroot whose
``/usr`` is an overlay of this machine's (stub EOLE commands added in the overlay, nothing written to the real
``/usr``), its own ``/etc`` (``passwd``/``shadow`` with ``root`` and ``eole``: the real ``usermod`` sets the hash
there), ``/run``, ``/var/log`` and ``/proc``. The stubs answer like EOLE's commands (prompts taken from EOLE's own
answer table) and record what they were given. Needs root (CI runs as root).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import context as site_context
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.shadow_crypt import sha512_crypt

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare (a private mount and PID namespace, a chroot)")

ZEPHIR_PASSWORD = "Zeph1r-s3cret pw"
ADDC_PASSWORD = "Ad-Secret-974"
ROOT_HASH = sha512_crypt("Root-974!", "abcdefgh", 5000)

# ------------------------------------------------------------------------------------------------ the stub commands
RECORD = """
import json, os, sys
SECRET_KEYS = ("ZEPHIR_PASSWORD_BASE64", "HAPY_ADDC_PASSWORD_BASE64")
def record(name, data):
    with open(f"/var/log/stub-{name}.json", "w") as out:
        json.dump(data, out)
"""

INSTANCE_UNATTENDED = RECORD + """
import stat, string, time
args = sys.argv[1:]
path = args[args.index("--file-passwords") + 1]
lines = dict(line.split(" ", 1) for line in open(path).read().splitlines())
record("unattended", {
    "args": args, "file_mode": oct(stat.S_IMODE(os.stat(path).st_mode)),
    "dir_mode": oct(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)), "path": path,
    "passwords": lines, "secrets_in_env": sorted(k for k in os.environ if "SECRET" in k or k in SECRET_KEYS)})
print("instance-unattended (stub): instance done")
if "--store-passwords" in args and "addc" not in lines:
    with open(path, "a") as out:
        out.write("addc Gener4ted-AD-pw\\n")
time.sleep(float(os.environ.get("STUB_SLEEP", "0")))
sys.exit(int(os.environ.get("STUB_EXIT", "0")))
"""

INSTANCE = RECORD + """
import getpass
answers = {}
print("Une mise à jour est recommandée avant l'instance.")
answers["maj"] = input("Voulez-vous faire la mise à jour maintenant ? [oui/non] : ")
answers["continue"] = input("Continuer instanciation quand même ? [oui/non] : ")
print("Changement du mot de passe pour l’utilisateur root")
answers["root1"] = getpass.getpass("Nouveau mot de passe : ")
answers["root2"] = getpass.getpass("Retapez le nouveau mot de passe : ")
answers["ad"] = getpass.getpass("Création du mot de passe 'admin' Active Directory : ")
answers["filtrage"] = input("Voulez-vous mettre à jour les bases de filtrage maintenant ? [oui/non] : ")
answers["rvp"] = input("Voulez-vous configurer le Réseau Virtuel Privé maintenant ? [oui/non] : ")
answers["unknown"] = input("Voulez-vous activer une option que personne ne connaît ? [oui/non] : ")
record("instance", answers)
print("instance (stub): done")
"""

INSTANCE_HANGS = """#!/bin/bash
trap 'echo terminated >/var/log/stub-grandchild; exit 143' TERM
read -r -p "Une question que personne ne connaît : " answer
"""

ENREGISTREMENT_ZEPHIR = RECORD + """
import getpass
if sys.argv[1:] == ["--check"]:
    sys.exit(0 if os.path.exists("/etc/eole/.stub-registered") else 1)
answers = {}
answers["mini"] = input("Voulez-vous établir une configuration réseau minimale (O/N) : ")
answers["address"] = input("Entrez l'adresse (nom DNS) du serveur Zéphir : ")
for attempt in range(5):
    answers["login"] = input("Entrez votre login pour l'application Zéphir (rien pour sortir) : ")
    answers["password"] = getpass.getpass(f"Mot de passe pour l'application Zéphir pour {answers['login']} : ")
    if answers["password"] == os.environ.get("STUB_ZEPHIR_PASSWORD", answers["password"]):
        break
    print("\\n Erreur d'authentification \\n")
answers["create"] = input("créer le serveur dans la base du serveur Zéphir (O/N) : ")
answers["search"] = input("Etablissement du serveur (rien pour saisir directement un n° de serveur) : ")
answers["id"] = input("entrez le n° identifiant le serveur dans l'application Zéphir : ")
print("Configuration des communications vers le serveur Zéphir")
print(" 1 : ...")
print(" 2 : ...")
print(" 3 : ...")
answers["menu"] = input("Votre choix : ")
answers["secrets_in_env"] = sorted(k for k in os.environ if "SECRET" in k or k in SECRET_KEYS)
record("zephir", answers)
with open("/etc/eole/config.eol", "w") as out:
    json.dump({"___version___": "2.9.0", "nom_machine": {"owner": "zephir", "val": "scribe"}}, out)
open("/etc/eole/.stub-registered", "w").close()
"""

MAJ_AUTO = RECORD + """
record("majauto", {"answer": input("Voulez-vous continuer ? [oui/non] : "), "proxy": os.environ.get("http_proxy")})
"""

POWEROFF = "#!/bin/bash\ntouch /var/log/stub-poweroff\n"
ONEGATE = "#!/bin/bash\nprintf '%s\\n' \"$*\" >>/var/log/stub-onegate.log\n"


@dataclass
class Boot:
    code: int
    seconds: float
    root: Path

    def read(self, path: str) -> str:
        return (self.root / path.lstrip("/")).read_text()

    def record(self, name: str) -> dict:
        return json.loads(self.read(f"/var/log/stub-{name}.json"))

    def exists(self, path: str) -> bool:
        return (self.root / path.lstrip("/")).exists()

    def mode(self, path: str) -> int:
        return stat.S_IMODE((self.root / path.lstrip("/")).stat().st_mode)

    @property
    def log(self) -> str:
        return self.read("/var/log/hapy-instance.log")

    @property
    def status(self) -> str:
        return self.read("/var/log/hapy-instance.status").strip()


class GuestRoot:
    """A guest-like root (see the module's docstring) in which the first-boot script runs."""

    def __init__(self, base: Path):
        self.base = base
        self.root, self.upper, self.work = base / "root", base / "upper", base / "work"
        for directory in (self.upper / "local/sbin", self.upper / "share/eole/sbin", self.work):
            directory.mkdir(parents=True)
        for directory in ("etc", "var/log", "run", "tmp", "root", "proc", "dev", "usr"):
            (self.root / directory).mkdir(parents=True)
        for link in ("bin", "sbin", "lib", "lib64"):
            if os.path.islink(f"/{link}"):
                (self.root / link).symlink_to(os.readlink(f"/{link}"))
        (self.root / "tmp").chmod(0o1777)
        etc = self.root / "etc"
        (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\neole:x:1000:1000:eole:/home/eole:/bin/bash\n")
        (etc / "shadow").write_text("root:*:19000:0:99999:7:::\neole:*:19000:0:99999:7:::\n")
        (etc / "group").write_text("root:x:0:\neole:x:1000:\n")
        (etc / "gshadow").write_text("root:*::\neole:!::\n")
        (etc / "shadow").chmod(0o640)
        for name in ("login.defs", "nsswitch.conf"):
            if Path(f"/etc/{name}").exists():
                shutil.copy(f"/etc/{name}", etc / name)
        self.script = self.root / "hapy-first-boot.sh"
        self.script.write_text(site_context.START_SCRIPT)
        self.stub("local/sbin/poweroff", POWEROFF)
        self.stub("local/sbin/onegate", ONEGATE)

    def stub(self, path: str, text: str) -> None:
        target = self.upper / path
        target.write_text(text if text.startswith("#!") else "#!/usr/bin/python3\n" + text)
        target.chmod(0o755)

    def boot(self, **context: str) -> Boot:
        """Run the script as one-context would, with ``context`` as its environment."""
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", **context}
        inner = textwrap.dedent(f"""\
            set -e
            mount -t overlay overlay -o lowerdir=/usr,upperdir={self.upper},workdir={self.work} {self.root}/usr
            mount -t proc proc {self.root}/proc
            mount --rbind /dev {self.root}/dev
            exec chroot {self.root} /usr/bin/env -i {' '.join(f'{k}={_quote(v)}' for k, v in env.items())} \\
                /bin/bash /hapy-first-boot.sh
            """)
        started = time.monotonic()
        proc = subprocess.run(["unshare", "--mount", "--pid", "--fork", "--propagation", "private", "bash", "-c",
                               inner], capture_output=True, text=True, timeout=120, check=False)
        assert "mount" not in proc.stderr, proc.stderr
        return Boot(proc.returncode, time.monotonic() - started, self.root)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def guest(tmp_path: Path) -> GuestRoot:
    return GuestRoot(tmp_path)


ZEPHIR_CONTEXT = {"ZEPHIR_ADDRESS": "zephir.ac-reunion.example", "ZEPHIR_USER": "hapy", "ZEPHIR_ID": "4242",
                  "ZEPHIR_MENU": "2", "ZEPHIR_PASSWORD_BASE64": b64(ZEPHIR_PASSWORD), "VM_NAME": "scribe"}


def secrets_of(boot: Boot) -> list[str]:
    passwords = list(boot.record("unattended")["passwords"].values()) if boot.exists("/var/log/stub-unattended.json") \
        else []
    return [ZEPHIR_PASSWORD, ADDC_PASSWORD, b64(ZEPHIR_PASSWORD), b64(ADDC_PASSWORD), *passwords]


# ------------------------------------------------------------------------------------------------------- the tests
def test_zephir_guest_of_a_recent_release_installs_through_instance_unattended(guest: GuestRoot) -> None:
    """EOLE >= 2.8.1, Zéphir mode: registration (prompts answered), instance-unattended with its password file
    (0600 in a 0700 directory of /run, removed after), the hash set for root and eole, halt, status and OneGate."""
    guest.stub("local/sbin/enregistrement_zephir", ENREGISTREMENT_ZEPHIR)
    guest.stub("share/eole/sbin/instance-unattended", INSTANCE_UNATTENDED)
    boot = guest.boot(**ZEPHIR_CONTEXT, EOLE_INSTANCE_UNATTENDED="YES", EOLE_RELEASE="2.9.0",
                      HAPY_ADDC_PASSWORD_BASE64=b64(ADDC_PASSWORD), EOLE_ROOT_PASSWORD_HASH_BASE64=b64(ROOT_HASH),
                      HAPY_HALT="YES", ONEGATE_ENDPOINT="http://10.99.0.1:5030")
    assert boot.code == 0, boot.log

    zephir = boot.record("zephir")
    assert {k: zephir[k] for k in ("mini", "address", "login", "password", "create", "search", "id", "menu")} == {
        "mini": "N", "address": "zephir.ac-reunion.example", "login": "hapy", "password": ZEPHIR_PASSWORD,
        "create": "N", "search": "", "id": "4242", "menu": "2"}
    assert zephir["secrets_in_env"] == [], "enregistrement_zephir inherits no secret"
    assert boot.exists("/etc/eole/config.eol"), "Zéphir mode: the config.eol came with the registration"

    unattended = boot.record("unattended")
    assert unattended["args"] == ["--file-passwords", unattended["path"]], "all three passwords given: no store"
    assert unattended["path"].startswith("/run/hapy-instance.")
    assert (unattended["file_mode"], unattended["dir_mode"]) == ("0o600", "0o700")
    passwords = unattended["passwords"]
    assert set(passwords) == {"root", "eole", "addc"} and passwords["addc"] == ADDC_PASSWORD
    for account in ("root", "eole"):  # one-time passwords made in the guest, EOLE's character policy
        one_time = passwords[account]
        assert len(one_time) == 20 and one_time.isalnum() and not one_time.isdigit() and one_time != one_time.lower()
    assert passwords["root"] != passwords["eole"]
    assert unattended["secrets_in_env"] == []
    assert not list((guest.root / "run").iterdir()), "the password file and its directory are gone"

    shadow = boot.read("/etc/shadow")
    assert f"root:{ROOT_HASH}:" in shadow and f"eole:{ROOT_HASH}:" in shadow
    assert boot.exists("/etc/eole/.hapy-instance-done") and boot.exists("/var/log/stub-poweroff")
    assert boot.status == "HALT:OK:installed, powering off"
    assert boot.mode("/var/log/hapy-instance.log") == 0o600
    assert "[hapy] answered '(secret)'" in boot.log and "instance-unattended (stub): instance done" in boot.log
    assert [s for s in secrets_of(boot) if s in boot.log] == [], "no secret in the log"
    steps = [line.split("=", 1)[1].strip('"') for line in boot.read("/var/log/stub-onegate.log").splitlines()]
    assert [s.split(":")[0] for s in steps] == ["START", "ENREGISTREMENT_ZEPHIR", "ENREGISTREMENT_ZEPHIR", "INSTANCE",
                                                "INSTANCE", "PASSWORDS", "HALT"]

    size = len(boot.log)
    again = guest.boot(**ZEPHIR_CONTEXT, EOLE_INSTANCE_UNATTENDED="YES", HAPY_HALT="YES")
    assert again.code == 0 and len(again.log) == size, "a later boot does nothing"


def test_without_an_addc_password_instance_unattended_makes_one_kept_for_root(guest: GuestRoot) -> None:
    guest.stub("share/eole/sbin/instance-unattended", INSTANCE_UNATTENDED)
    boot = guest.boot(EOLE_CONFIG_EOL_BASE64=b64('{"___version___": "2.8.1"}'), EOLE_INSTANCE_UNATTENDED="YES")
    assert boot.code == 0, boot.log
    unattended = boot.record("unattended")
    assert unattended["args"][0] == "--store-passwords" and set(unattended["passwords"]) == {"root", "eole"}
    assert boot.read("/root/.hapy-addc-password") == "Gener4ted-AD-pw\n"
    assert boot.mode("/root/.hapy-addc-password") == 0o600
    assert "Gener4ted-AD-pw" not in boot.log
    assert boot.status == "DONE:OK:installed" and not boot.exists("/var/log/stub-poweroff")
    assert "no password in the inventory" in boot.log and "root:*:" in boot.read("/etc/shadow")


def test_older_release_answers_instance_prompts_as_eole_does(guest: GuestRoot) -> None:
    """EOLE < 2.8.1: instance in a pty, EOLE's own answers ("oui" to continuing and to the filter databases),
    passwords typed after the prompt is ready (getpass flushes what comes earlier), "non" to an unknown question."""
    guest.stub("local/sbin/instance", INSTANCE)
    guest.stub("local/sbin/Maj-Auto", MAJ_AUTO)
    config = '{"___version___": "2.7.2", "nom_machine": {"owner": "gen_config", "val": "amon"}}'
    boot = guest.boot(EOLE_CONFIG_EOL_BASE64=b64(config), HAPY_ADDC_PASSWORD_BASE64=b64(ADDC_PASSWORD),
                      EOLE_ROOT_PASSWORD_HASH_BASE64=b64(ROOT_HASH), HAPY_INSTANCE_TIMEOUT="60", EOLE_UPDATE="YES",
                      PROXY="http://10.99.2.1:3128")
    assert boot.code == 0, boot.log
    assert boot.record("majauto") == {"answer": "oui", "proxy": "http://10.99.2.1:3128"}, "Maj-Auto, as EOLE answers"
    answers = boot.record("instance")
    one_time = answers.pop("root1")
    assert answers == {"maj": "non", "continue": "oui", "root2": one_time, "ad": ADDC_PASSWORD, "filtrage": "oui",
                       "rvp": "non", "unknown": "non"}
    assert len(one_time) == 20 and one_time not in boot.log and ADDC_PASSWORD not in boot.log
    assert "no answer known for 'voulez-vous activer une option que personne ne connait ? [oui/non] : '" in boot.log
    assert json.loads(boot.read("/etc/eole/config.eol")) == json.loads(config)
    assert boot.mode("/etc/eole/config.eol") == 0o600
    assert f"root:{ROOT_HASH}:" in boot.read("/etc/shadow")
    assert boot.status == "DONE:OK:installed"


def test_release_with_instance_unattended_missing_falls_back_to_the_answerer(guest: GuestRoot) -> None:
    guest.stub("local/sbin/instance", INSTANCE)
    boot = guest.boot(EOLE_CONFIG_EOL_BASE64=b64("{}"), EOLE_INSTANCE_UNATTENDED="YES")
    assert boot.code == 0, boot.log
    assert "instance-unattended is missing although the release has it" in boot.log
    assert boot.record("instance")["continue"] == "oui"


@pytest.mark.parametrize("unattended", [False, True], ids=["answerer", "instance-unattended"])
def test_instance_that_hangs_is_stopped_at_the_time_out(guest: GuestRoot, unattended: bool) -> None:
    """A prompt nobody can answer (or a tool that never ends): stopped with its children after
    HAPY_INSTANCE_TIMEOUT, the status names the step, no marker and no halt (the next boot tries again), the
    password file removed all the same."""
    if unattended:
        guest.stub("share/eole/sbin/instance-unattended", INSTANCE_UNATTENDED)
        extra = {"EOLE_INSTANCE_UNATTENDED": "YES", "STUB_SLEEP": "600"}
    else:
        guest.stub("local/sbin/instance", INSTANCE_HANGS)
        extra = {}
    boot = guest.boot(EOLE_CONFIG_EOL_BASE64=b64("{}"), HAPY_INSTANCE_TIMEOUT="3", HAPY_HALT="YES", **extra)
    assert boot.code == 1
    assert boot.status == "INSTANCE:ERROR:time-out after 3 s (see /var/log/hapy-instance.log)"
    assert boot.seconds < 60, "stopped at the time-out, not at the command's end"
    assert "still running after 3 s, stopped with its children" in boot.log
    if not unattended:
        assert boot.read("/var/log/stub-grandchild").strip() == "terminated"
        assert "waiting at an unknown prompt" not in boot.log  # only after 30 s of silence
    assert not boot.exists("/etc/eole/.hapy-instance-done") and not boot.exists("/var/log/stub-poweroff")
    assert not list((guest.root / "run").iterdir())


def test_zephir_refusing_the_password_ends_the_registration(guest: GuestRoot) -> None:
    """A wrong Zéphir password asked again and again: given up after 3 answers (exit 125), nothing installed."""
    guest.stub("local/sbin/enregistrement_zephir", ENREGISTREMENT_ZEPHIR)
    guest.stub("local/sbin/instance", INSTANCE)
    boot = guest.boot(**ZEPHIR_CONTEXT, STUB_ZEPHIR_PASSWORD="another one")
    assert boot.code == 1
    assert boot.status == "ENREGISTREMENT_ZEPHIR:ERROR:exit 125 (see /var/log/hapy-instance.log)"
    assert "asked more than 3 times" in boot.log and ZEPHIR_PASSWORD not in boot.log
    assert not boot.exists("/var/log/stub-instance.json") and not boot.exists("/etc/eole/.hapy-instance-done")


def test_a_guest_without_config_eol_stops_before_instance(guest: GuestRoot) -> None:
    guest.stub("local/sbin/instance", INSTANCE)
    boot = guest.boot()
    assert boot.code == 1
    assert boot.status == "CONFIG:ERROR:no /etc/eole/config.eol: neither in the context nor from Zéphir"
    assert not boot.exists("/var/log/stub-instance.json")
