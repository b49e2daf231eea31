# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the virtual machine definition options shared by one_template and one_vm."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  cpu:
    description:
      - Physical CPU share of the VM (C(CPU)), e.g. C(0.5) or C(2).
      - OpenNebula refuses a VM without a positive C(CPU) and C(MEMORY); M(eole.hapy.one_vm) checks, before any
        write, that the options or the VM template give both.
    type: float
  vcpu:
    description: Number of virtual CPUs the guest sees (C(VCPU)).
    type: int
  memory:
    description:
      - Memory of the VM in MB (C(MEMORY)); with O(cpu), required by OpenNebula for every VM.
    type: int
  disks:
    description:
      - The VM's disks (C(DISK) vectors), in order. Each item takes C(image) (name or id of an image; by name the
        image's owner is added as C(IMAGE_UNAME)) or, for a volatile disk, C(size) in MB with C(type)
        (C(fs), C(swap)); plus any other disk attribute, e.g. C(size) to grow the image, C(dev_prefix), C(target),
        C(cache), C(driver), C(discard).
      - Declared as a whole; the disks are replaced by exactly this list.
    type: list
    elements: dict
  nics:
    description:
      - The VM's network interfaces (C(NIC) vectors), in order. Each item takes C(network) (name, sent as
        C(NETWORK) with the network's owner as C(NETWORK_UNAME), or id, sent as C(NETWORK_ID)), C(ip) (a fixed IPv4
        address), C(model) (e.g. C(virtio)), C(security_groups) (list of security group names or ids), plus any
        other NIC attribute (C(mac), C(filter_ip_spoofing), C(name), ...).
      - Declared as a whole; the NICs are replaced by exactly this list.
    type: list
    elements: dict
  context:
    description:
      - Contextualization attributes (C(CONTEXT) vector), e.g. C(NETWORK=YES), C(SSH_PUBLIC_KEY), C(SET_HOSTNAME),
        EOLE variables. Values of keys ending in C(_BASE64) (e.g. C(START_SCRIPT_BASE64)) must be base64 text,
        for example produced by the C(b64encode) filter.
    type: dict
  graphics:
    description: Remote console (C(GRAPHICS) vector), e.g. C(TYPE=VNC) and C(LISTEN=0.0.0.0).
    type: dict
  os:
    description:
      - Boot and machine settings (C(OS) vector), e.g. C(ARCH=x86_64), C(MACHINE=q35), C(FIRMWARE) (path of a UEFI
        firmware, or C(UEFI)), C(BOOT=disk0).
    type: dict
  features:
    description: Hypervisor features (C(FEATURES) vector), e.g. C(ACPI=yes), C(GUEST_AGENT=yes).
    type: dict
  inputs:
    description: Input devices (C(INPUT) vectors), e.g. C(TYPE=tablet) with C(BUS=usb) for a usable VNC mouse.
    type: list
    elements: dict
"""
