"""nodes role, single mode (the host is its own frontend): real libvirtd, sshd, oneadmin trust."""

import pytest


def test_node_package_from_pinned_repository(host):
    pkg = host.package("opennebula-node-kvm")
    assert pkg.is_installed
    assert pkg.version.startswith("6.10."), "pinned to hapy_one.version 6.10 although 7.0 is in the repository"
    assert host.file("/etc/apt/preferences.d/opennebula-node").contains("^Pin: version 6.10.\\*$")


@pytest.mark.parametrize("unit", ["libvirtd", "ssh"])
def test_services_running(host, unit):
    assert host.service(unit).is_running
    assert host.service(unit).is_enabled


def test_oneadmin_groups(host):
    groups = host.user("oneadmin").groups
    assert "libvirt" in groups and "kvm" in groups


def test_libvirt_socket_group(host):
    sock = host.file("/run/libvirt/libvirt-sock")
    assert sock.is_socket
    assert sock.group == "oneadmin"
    assert sock.mode == 0o770


def test_virsh_as_oneadmin(host):
    out = host.run("runuser -u oneadmin -- virsh -c qemu:///system list --all")
    assert out.rc == 0, out.stderr
    assert "Id" in out.stdout and "Name" in out.stdout


def test_qemu_runs_as_oneadmin(host):
    conf = host.file("/etc/libvirt/qemu.conf")
    assert conf.contains('^user = "oneadmin"$')
    assert conf.contains('^group = "oneadmin"$')
    assert conf.contains("^dynamic_ownership = 0$")
    # libvirt's own view of the configuration it loaded
    caps = host.run("virsh -c qemu:///system domcapabilities --virttype qemu")
    assert caps.rc == 0, caps.stderr


def test_oneadmin_ssh_to_itself_without_prompt(host):
    """Single mode: the frontend reaches its own node as oneadmin, key and host key already trusted."""
    name = host.check_output("hostname")
    out = host.run(f"runuser -u oneadmin -- ssh -o BatchMode=yes {name} true")
    assert out.rc == 0, out.stderr
    known = host.file("/var/lib/one/.ssh/known_hosts")
    assert known.user == "oneadmin"
    assert known.contains(name)
