"""A loopback node reached over real SSH, for a real oned whose transfer and backup drivers ssh to their hosts.

OpenNebula's ``ssh``/``shared`` transfer drivers and the ``rsync`` backup datastore driver run their commands
over ``ssh <host>`` as the user oned runs as (root here), with that user's ``~/.ssh`` (keys, config) and with
the drivers copied to ``/var/tmp/one`` on the host (``onehost sync``). A Hâpy single-node server is both the
frontend and the KVM node, and sshes to itself. This module builds that here without touching the machine:

- a private mount namespace (``unshare --mount``) in which root's ``~/.ssh`` is this node's own directory (a key
  pair, a client ``config`` sending every host name to ``127.0.0.1:<port>``), ``/var/tmp/one`` is the oned
  instance's ``var/remotes`` and ``/run`` a fresh tmpfs (for sshd's ``/run/sshd``);
- OpenSSH's ``sshd`` on ``127.0.0.1:<port>`` in that namespace (host key, authorized key and configuration in
  the node's directory, root by key only);
- ``wrap(argv)`` runs a command (oned) inside the same namespace with ``nsenter``.

Everything the namespace holds disappears with its last process; ``stop()`` ends exactly the processes in it.
The OpenNebula drivers, ssh, sshd, rsync and qemu-img are the real, unmodified ones.
"""

from __future__ import annotations

import os
import pwd
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"

SSHD_CONFIG = """\
ListenAddress 127.0.0.1:{port}
HostKey {dir}/ssh_host_ed25519_key
PidFile none
AuthorizedKeysFile {dir}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100:30:200
MaxSessions 100
LogLevel ERROR
{setenv}"""

CLIENT_CONFIG = """\
Host *
    HostName 127.0.0.1
    Port {port}
    IdentityFile {home_ssh}/id_ed25519
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    BatchMode yes
    ConnectTimeout 10
    LogLevel ERROR
"""

# Run by `unshare --mount` (propagation private): the node's view of the machine, then sshd in the foreground.
NAMESPACE_SCRIPT = """\
set -e
mount -t tmpfs -o mode=0755 {prefix}-run /run
mkdir -p /run/sshd
mount --bind {dir}/home-ssh {home_ssh}
mount -t tmpfs -o mode=1777 {prefix}-vartmp /var/tmp
mkdir /var/tmp/one
mount --bind {remotes} /var/tmp/one
exec {sshd} -D -e -f {dir}/sshd_config
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SshNode:
    """sshd on loopback in a mount namespace that oned shares (see the module docstring)."""

    def __init__(self, directory: Path, remotes: Path, prefix: str = "hapy",
                 environment: dict[str, str] | None = None) -> None:
        self.dir = Path(directory)
        self.environment = environment or {}  # of the node's ssh sessions (sshd SetEnv)
        self.remotes = Path(remotes)
        self.prefix = prefix
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.home_ssh = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".ssh"

    def _lay_out(self) -> None:
        home = self.dir / "home-ssh"
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o700)
        for key, comment in ((self.dir / "ssh_host_ed25519_key", "host"), (home / "id_ed25519", "oneadmin")):
            if not key.exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{self.prefix}-{comment}",
                                "-f", str(key)], check=True)
        (self.dir / "authorized_keys").write_text((home / "id_ed25519.pub").read_text())
        setenv = " ".join(f"{k}={v}" for k, v in self.environment.items())
        (self.dir / "sshd_config").write_text(SSHD_CONFIG.format(port=self.port, dir=self.dir,
                                                                 setenv=f"SetEnv {setenv}\n" if setenv else ""))
        (home / "config").write_text(CLIENT_CONFIG.format(port=self.port, home_ssh=self.home_ssh))

    def start(self, timeout: float = 20.0) -> SshNode:
        if not Path(SSHD).exists():
            raise FileNotFoundError(f"{SSHD} is missing: install openssh-server (requirements/apt.txt)")
        # the node mounts its own ssh directory over the user's, inside its mount namespace only: the mount point
        # must exist (a fresh machine's root has no ~/.ssh; the CI of stop 19 had none); left empty outside
        self.home_ssh.mkdir(mode=0o700, exist_ok=True)
        self._lay_out()
        script = NAMESPACE_SCRIPT.format(prefix=self.prefix, dir=shlex.quote(str(self.dir)),
                                         home_ssh=shlex.quote(str(self.home_ssh)),
                                         remotes=shlex.quote(str(self.remotes)), sshd=SSHD)
        with open(self.dir / "sshd.log", "ab") as log:
            self.process = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd of the node exited: {(self.dir / 'sshd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"sshd of the node did not answer on 127.0.0.1:{self.port} in {timeout:.0f} s")

    @property
    def namespace(self) -> str:
        assert self.process is not None, "node not started"
        return f"/proc/{self.process.pid}/ns/mnt"

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the node's mount namespace (``nsenter`` execs it: same process)."""
        return ["nsenter", f"--mount={self.namespace}", "--", *argv]

    def run(self, command: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        """A shell command run on the node over ssh, as the drivers do (``ssh <host> bash -s``)."""
        return subprocess.run(self.wrap(["ssh", "node", "bash", "-s"]), input=command, text=True,
                              capture_output=True, timeout=timeout, check=False)

    def stop(self) -> None:
        """End every process of the namespace (sshd, its sessions, and whatever ran in it), and only those."""
        proc, self.process = self.process, None
        if proc is None:
            return
        try:
            ours = os.stat(f"/proc/{proc.pid}/ns/mnt").st_ino if proc.poll() is None else None
        except FileNotFoundError:
            ours = None
        if ours is not None:
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit() and int(entry.name) != os.getpid():
                    try:
                        if os.stat(entry / "ns" / "mnt").st_ino == ours:
                            os.kill(int(entry.name), signal.SIGKILL)
                    except (OSError, ProcessLookupError):
                        pass
        proc.kill()
        proc.wait(5)
