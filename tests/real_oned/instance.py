"""One real ``oned`` instance for tests: fresh etc/ and var/ (new SQLite DB), loopback ports, dummy drivers.

The install trees come from ``scripts/build-oned.sh`` (cached outside the clone). An instance is a directory
in ONE_LOCATION layout whose ``bin``/``lib``/``share``/``sbin``/``include`` link to the install and whose
``etc``/``var`` are its own copies, so several instances run side by side. ``stop()`` ends the process group
oned was started in (oned, its drivers, monitord, the scheduler, the hook manager) and nothing else.

For a Raft zone (``tests/real_oned/ha.py``) an instance can also run inside a network namespace (``netns``:
oned, its scheduler and ``onedb`` are started through ``ip netns exec``, its API is ``http://<address>:2633``)
with configuration files given as text (``oned_conf``/``monitord_conf``: the frontend role's rendered files,
used as they are instead of the stock files adapted for loopback), extra programs (``programs``: the role's
hook) and a datastore location shared with other instances (``datastores``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import xmlrpc.client
from pathlib import Path

from .ssh_node import SshNode

CACHE = Path(os.environ.get("HAPY_ONED_CACHE", "/var/cache/eole-hapy/oned"))
VERSIONS = ("6.10.5", "7.0.2")
LINKED = ("bin", "sbin", "lib", "share", "include")

# Hosts of kind "dummy" get monitored by the stock dummy probes; VMs on them are "deployed" by the dummy VMM.
DUMMY_VM_MAD = '\nVM_MAD = [ NAME = "dummy", SUNSTONE_NAME = "Testing", EXECUTABLE = "one_vmm_dummy", TYPE = "xml" ]\n'
DUMMY_IM_MAD = ('\nIM_MAD = [ NAME = "dummy", SUNSTONE_NAME = "Dummy", EXECUTABLE = "one_im_sh",\n'
                '          ARGUMENTS = "-r 3 -t 15 -w 90 dummy", THREADS = 0 ]\n')

# With an ssh node: OpenNebula's own exec VMM driver (one_vmm_exec, as for KVM), whose hypervisor scripts are
# no-ops run on the node over ssh (no hypervisor here). Every VMM action the dummy VMM fakes inside the driver
# (backups included: "BACKUP SUCCESS <id> dummy-backup-id") then goes through the real driver, so a backup runs
# the real transfer-driver prebackup/postbackup and backup-datastore scripts.
NODE_VM_MAD = ('\nVM_MAD = [ NAME = "sshnode", SUNSTONE_NAME = "SSH node", EXECUTABLE = "one_vmm_exec",\n'
               '          ARGUMENTS = "-t 15 -r 0 sshnode", TYPE = "xml" ]\n')
# the node's hypervisor scripts: deploy prints a deploy id (the VM id, from <system ds>/<vm id>/deployment.N)
NODE_VMM_SCRIPTS = {
    "deploy": '#!/bin/sh\necho "sshnode-$(basename "$(dirname "$1")")"\n',
    **{action: "#!/bin/sh\nexit 0\n" for action in ("shutdown", "cancel", "reboot", "reset")},
}


DRIVER_TIMEOUT = "Driver initialization time out"  # oned's log line when a driver missed its 10 s to start


class OnedStartError(RuntimeError):
    """oned did not answer in time; the message carries the end of its log."""


def install_prefix(version: str) -> Path | None:
    """The complete install of ``version`` in the cache, or None when it was not built."""
    link = CACHE / version
    if link.exists() and (link.resolve() / ".complete").exists():
        return link.resolve()
    return None


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback TCP ports (bound then released)."""
    socks, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def _sub(text: str, pattern: str, repl: str, path: Path) -> str:
    new, n = re.subn(pattern, repl, text, count=1, flags=re.MULTILINE)
    if n != 1:
        raise OnedStartError(f"{path.name}: no line matches {pattern!r} (OpenNebula changed its defaults?)")
    return new


class OnedInstance:
    """A real oned of ``version`` with ``oneadmin:<password>``; ``start()``, ``url``, ``stop()``."""

    def __init__(self, version: str, password: str = "opennebula", workdir: Path | None = None,
                 port: int | None = None, sched_interval: int = 1, ssh_node: str | None = None,
                 netns: str | None = None, address: str = "127.0.0.1", oned_conf: str | None = None,
                 monitord_conf: str | None = None, datastores: Path | None = None,
                 programs: dict[str, str] | None = None) -> None:
        prefix = install_prefix(version)
        if prefix is None:
            raise FileNotFoundError(f"OpenNebula {version} is not built: run scripts/build-oned.sh {version}")
        self.version = version
        self.prefix = prefix
        self.password = password
        self.root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"hapy-oned-{version}-"))
        self._owns_root = workdir is None
        self.port, hm_pub, hm_rep, monitord = free_ports(4)
        if port:
            self.port = port
        self._ports = {"hm_pub": hm_pub, "hm_rep": hm_rep, "monitord": monitord}
        self.sched_interval = sched_interval
        self.process: subprocess.Popen | None = None
        # ssh_node (a name prefix): oned runs in the mount namespace of a loopback node reached over real ssh
        # (7.0's node-side backup script loads OpenNebula's Ruby libraries: the node has this install's)
        self.node = SshNode(self.root / "node", self.root / "var" / "remotes", prefix=ssh_node,
                            environment={"ONE_LOCATION": str(self.root), "RUBYLIB": str(self.root / "lib" / "ruby")}
                            ) if ssh_node else None
        self.sched_process: subprocess.Popen | None = None
        self.netns = netns
        self.address = address
        # Configuration files used verbatim (the role's output): PORT, LISTEN_ADDRESS, drivers and hook-manager
        # ports are theirs, so they suit an instance alone in its network namespace.
        self.oned_conf = oned_conf
        self.monitord_conf = monitord_conf
        # DATASTORE_LOCATION shared by several instances (an HA zone's datastores, one path on every server: the
        # datastores' BASE_PATH and the images' SOURCE oned stores must not depend on which server wrote them)
        self.datastores = datastores
        self.programs = programs or {}  # path in the instance -> text of an executable to add (e.g. the role's hook)
        if oned_conf is not None:
            match = re.search(r"^PORT\s*=\s*(\d+)", oned_conf, flags=re.MULTILINE)
            self.port = int(match.group(1)) if match else 2633
        self.restarts: list[str] = []  # why start() had to start oned again (oned's last error line each time)

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}/RPC2"

    def command(self, *argv: str) -> list[str]:
        """``argv`` as run for this instance: inside its network namespace when it has one."""
        return ["ip", "netns", "exec", self.netns, *argv] if self.netns else list(argv)

    @property
    def log_path(self) -> Path:
        return self.root / "var" / "oned.log"

    @property
    def db_path(self) -> Path:
        """The SQLite database (DB = [ BACKEND = "sqlite" ] in the stock oned.conf)."""
        return self.root / "var" / "one.db"

    def save_db(self, copy: Path) -> None:
        """Copy the running instance's database to ``copy`` (SQLite's online backup: a consistent snapshot
        while oned runs), a state ``restore_db`` returns to."""
        with sqlite3.connect(self.db_path) as source, sqlite3.connect(copy) as target:
            source.backup(target)

    def restore_db(self, copy: Path) -> None:
        """Kill oned, put back a database saved by ``save_db``, start on it: seconds, against ~20 s for a new
        bootstrap whose datastores must first be monitored (the saved ones already are)."""
        self.stop(timeout=0)
        shutil.copy2(copy, self.db_path)
        self.start(fresh=False)

    # ---------------------------------------------------------------- layout and configuration
    def lay_out(self) -> None:
        """A fresh instance directory (new etc/ and var/, no database yet); ``start()`` does it unless told not to."""
        self.root.mkdir(parents=True, exist_ok=True)
        for name in LINKED:
            target = self.prefix / name
            if target.exists() and not (self.root / name).exists():
                (self.root / name).symlink_to(target)
        shutil.rmtree(self.root / "var", ignore_errors=True)
        (self.root / "var").mkdir()
        for sub in ("vms", "datastores", "import", "lock"):
            (self.root / "var" / sub).mkdir(exist_ok=True)
        (self.root / "one_auth").write_text(f"oneadmin:{self.password}\n")
        self._lay_out_release()

    def _lay_out_release(self) -> None:
        """What a package of the release brings: its stock etc/ (configured for this instance) and drivers."""
        shutil.rmtree(self.root / "etc", ignore_errors=True)
        shutil.rmtree(self.root / "var" / "remotes", ignore_errors=True)
        shutil.copytree(self.prefix / "etc", self.root / "etc", symlinks=True)
        shutil.copytree(self.prefix / "var" / "remotes", self.root / "var" / "remotes", symlinks=True)
        if self.node is not None:  # the ssh node's VMM driver lives among the release's drivers
            scripts = self.root / "var" / "remotes" / "vmm" / "sshnode"
            scripts.mkdir()
            for action, text in NODE_VMM_SCRIPTS.items():
                (scripts / action).write_text(text)
                (scripts / action).chmod(0o755)
        self._isolate_dummy_monitoring()
        for relative, text in self.programs.items():
            (self.root / relative).write_text(text)
            (self.root / relative).chmod(0o755)
        self.write_config()
        sched = self.root / "etc" / "sched.conf"  # 6.10: mm_sched is a separate daemon talking XML-RPC
        if sched.exists():
            text = sched.read_text()
            text = _sub(text, r"^ONE_XMLRPC\s*=.*$", f'ONE_XMLRPC = "http://127.0.0.1:{self.port}/RPC2"', sched)
            text = _sub(text, r"^SCHED_INTERVAL\s*=.*$", f"SCHED_INTERVAL = {self.sched_interval}", sched)
            sched.write_text(text)

    def switch_release(self, version: str) -> None:
        """What upgrading the packages does to a stopped instance: the binaries, drivers and stock configuration
        of ``version``, same var/ (database, datastores, logs) and ports. The database is left as it is: upgrading
        it is the job of the code under test (``onedb upgrade``)."""
        if self.process is not None:
            raise RuntimeError("stop oned before switching its release")
        prefix = install_prefix(version)
        if prefix is None:
            raise FileNotFoundError(f"OpenNebula {version} is not built: run scripts/build-oned.sh {version}")
        self.version, self.prefix = version, prefix
        for name in LINKED:
            (self.root / name).unlink(missing_ok=True)
            if (prefix / name).exists():
                (self.root / name).symlink_to(prefix / name)
        self._lay_out_release()

    def _isolate_dummy_monitoring(self) -> None:
        """The dummy probes keep their monitord client's pid in ``/tmp/one-monitord-<host id>.pid`` and their
        shepherd kills every ``monitord-client.rb <x> <host id> <host name>`` but that pid: on a real frontend each
        host is its own machine, here two oneds side by side (scripts/test.sh runs a lane per version) whose hosts
        share an id and a name killed each other's client, and a host went to ERROR (CI of stop 19). Each instance's
        copy keeps the pid file in its own var/ and matches only its own client."""
        im = self.root / "var" / "remotes" / "im"
        client = im / "dummy.d" / "monitord-client.rb"
        for script in (im / "dummy.d" / "monitord-client_control.sh",
                       im / "dummy-probes.d" / "host" / "beacon" / "monitord-client-shepherd_local.sh"):
            if not script.exists():
                continue
            text = _sub(script.read_text(), r"/tmp/one-monitord-", f"{self.root}/var/one-monitord-", script)
            if "shepherd" in script.name:
                text = _sub(text, r'grep "/monitord-client\.rb ', f'grep "{client} ', script)
            script.write_text(text)

    def write_config(self) -> None:
        """oned.conf and monitord.conf: the given texts as they are, else the stock files adapted for loopback."""
        etc = self.root / "etc"
        if self.oned_conf is not None:
            (etc / "oned.conf").write_text(self.oned_conf)
        else:
            self._configure_oned(etc / "oned.conf")
        if self.datastores is not None:  # one path for every server, as /var/lib/one/datastores on real hosts
            self.datastores.mkdir(parents=True, exist_ok=True)
            with open(etc / "oned.conf", "a") as conf:
                conf.write(f'\nDATASTORE_LOCATION = "{self.datastores}"\n')
        if self.monitord_conf is not None:
            (etc / "monitord.conf").write_text(self.monitord_conf)
        else:
            self._configure_monitord(etc / "monitord.conf")

    def _configure_oned(self, path: Path) -> None:
        text = path.read_text()
        text = _sub(text, r"^PORT\s*=.*$", f"PORT = {self.port}", path)
        text = _sub(text, r"^LISTEN_ADDRESS\s*=.*$", 'LISTEN_ADDRESS = "127.0.0.1"', path)
        text = _sub(text, r"-p 2101 -l 2102", f"-p {self._ports['hm_pub']} -l {self._ports['hm_rep']}", path)
        # the stock marketplaces reach OpenNebula's public ones: no internet here
        text = _sub(text, r'(EXECUTABLE = "one_market",\s*ARGUMENTS\s*=\s*)"[^"]*"', r'\1"-t 15 -m http,s3"', path)
        if re.search(r"^SCHED_MAX_WND_TIME\s*=", text, flags=re.MULTILINE):  # 7.0: oned drives one_sched
            text = _sub(text, r"^SCHED_MAX_WND_TIME\s*=.*$", f"SCHED_MAX_WND_TIME = {self.sched_interval}", path)
        # the dummy system-datastore driver (TM_MAD="dummy" datastores); 6.10's stock list lacks it, 7.0's has it
        args = re.search(r'(DATASTORE_MAD\s*=\s*\[[^\]]*?ARGUMENTS\s*=\s*"[^"]*?-s )([^"]*)"', text)
        if args and "dummy" not in args.group(2).split(","):
            text = text[:args.start(2)] + "dummy," + text[args.start(2):]
        path.write_text(text + DUMMY_VM_MAD + (NODE_VM_MAD if self.node is not None else ""))

    def _configure_monitord(self, path: Path) -> None:
        text = path.read_text()
        text = _sub(text, r'(NETWORK\s*=\s*\[[^\]]*?ADDRESS\s*=\s*)"[^"]*"', r'\1"127.0.0.1"', path)
        text = _sub(text, r'MONITOR_ADDRESS\s*=\s*"[^"]*"', 'MONITOR_ADDRESS = "127.0.0.1"', path)
        text = _sub(text, r"(NETWORK\s*=\s*\[[^\]]*?PORT\s*=\s*)\d+", rf"\g<1>{self._ports['monitord']}", path)
        path.write_text(text + DUMMY_IM_MAD)

    # ---------------------------------------------------------------- process
    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ONE_", "RUBY", "GEM_"))}
        env.update(ONE_LOCATION=str(self.root), ONE_AUTH=str(self.root / "one_auth"),
                   RUBYLIB=str(self.root / "lib" / "ruby"),
                   PATH=f"{self.root / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}")
        if self.node is not None:  # drivers that call oned back (the backup ones) find it on its own port
            env["ONE_XMLRPC"] = self.url
        return env

    def start(self, timeout: float = 90.0, fresh: bool = True, attempts: int = 3) -> OnedInstance:
        """Lay out a fresh instance (unless ``fresh=False``: keep its DB) and wait until the API answers.

        oned gives each driver 10 s to answer INIT (include/Driver.h) and exits when one does not, which a
        loaded 2-core machine sees; ``opennebula.service`` (``Restart=on-failure``, ``StartLimitBurst=3``) then
        starts it again on the same database, and so does this, ``attempts`` times in all (``restarts`` keeps
        oned's last error line of each restart)."""
        if fresh or not (self.root / "etc").exists():
            self.lay_out()
        for attempt in range(1, attempts + 1):
            argv = self.command(str(self.root / "bin" / "oned"), "-f")
            if self.node is not None:
                argv = self.node.start().wrap(argv)
            with open(self.root / "oned.stdout", "ab") as out:
                self.process = subprocess.Popen(argv, env=self.environment(),
                                                cwd=self.root, stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True)
            try:
                self._wait_ready(timeout)
                break
            except OnedStartError as error:
                self.stop(timeout=0)  # oned may have exited alone: its node (sshd) and drivers still run
                if DRIVER_TIMEOUT not in str(error) or attempt == attempts:
                    raise
                errors = [line for line in self.log_tail(200).splitlines() if "][E]:" in line]
                self.restarts.append(errors[-1] if errors else DRIVER_TIMEOUT)
                (self.root / "var" / "lock" / ".lock").unlink(missing_ok=True)
        self._start_scheduler()
        return self

    def _start_scheduler(self) -> None:
        """6.10: ``oned -f`` does not start the scheduler (OpenNebula's ``one start`` does): start ``mm_sched``
        in a session of its own, ended by ``stop()``. 7.0's oned starts ``one_sched`` itself."""
        sched = self.root / "bin" / "mm_sched"
        if not (self.root / "etc" / "sched.conf").exists() or not sched.exists() or self.process is None:
            return
        with open(self.root / "sched.stdout", "ab") as out:
            self.sched_process = subprocess.Popen(self.command(str(sched)), env=self.environment(), cwd=self.root,
                                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        server = xmlrpc.client.ServerProxy(self.url)
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise OnedStartError(f"oned {self.version} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                answer = server.one.system.version(f"oneadmin:{self.password}")
                if answer[0]:
                    return
                last = RuntimeError(answer[1])
            except (OSError, xmlrpc.client.Error) as exc:
                last = exc
            time.sleep(0.2)
        self.stop()
        raise OnedStartError(f"oned {self.version} did not answer in {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def onedb(self, *args: str) -> subprocess.CompletedProcess:
        """``onedb <args> -s <this instance's SQLite DB>`` (inside its network namespace, where it checks that no
        oned answers before a restore); raises with onedb's output when it fails."""
        run = subprocess.run(self.command(str(self.root / "bin" / "onedb"), *args, "-s", str(self.db_path)),
                             env=self.environment(), cwd=self.root, capture_output=True, text=True, timeout=300)
        if run.returncode != 0:
            raise RuntimeError(f"onedb {' '.join(args)} failed ({run.returncode}): {run.stdout}{run.stderr}")
        return run

    def log_tail(self, lines: int = 30) -> str:
        for path in (self.log_path, self.root / "oned.stdout"):
            if path.exists():
                return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to oned's process group (oned stops its drivers), SIGKILL what is left after ``timeout``
        (0: at once, for an instance whose database is thrown away or replaced, or a server that dies)."""
        sched, self.sched_process = self.sched_process, None
        if sched is not None:  # 6.10's mm_sched first: it talks to oned
            sched.kill()
            sched.wait(5)
        proc, self.process = self.process, None
        if proc is None:
            if self.node is not None:
                self.node.stop()
            return
        try:
            pgid = os.getpgid(proc.pid)
        except ProcessLookupError:
            pgid = None
        if proc.poll() is None and timeout > 0:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        if pgid is not None:
            try:
                os.killpg(pgid, signal.SIGKILL)  # drivers oned left behind
            except ProcessLookupError:
                pass
        proc.wait(5)
        self._kill_detached()
        (self.root / "var" / "lock" / ".lock").unlink(missing_ok=True)  # left by a killed oned, which refuses to start
        if self.node is not None:
            self.node.stop()

    def _kill_detached(self) -> None:
        """The dummy probes' ``monitord-client.rb`` leave oned's process group (they daemonise): end those run
        from this instance's own directory, and nothing else."""
        marker = f"{self.root}/".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker in (entry / "cmdline").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass

    def remove(self) -> None:
        """Stop, then delete the instance directory if this object created it."""
        self.stop(timeout=0 if self._owns_root else 20.0)
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)
