"""The harness itself: systemd is PID 1 and the converge left its mark."""


def test_systemd_is_pid1(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"


def test_marker(host):
    marker = host.file("/etc/hapy-smoke")
    assert marker.exists
    assert marker.content_string.strip() == "booted by systemd"
