"""A libvirtd on qemu:///system and tiny throwaway QEMU guests for the tests and the demo.

The machines we test on have no KVM, so guests use QEMU's software emulation
(`<domain type='qemu'>`). A tiny guest has no disk and no network: it boots into the SeaBIOS
firmware and stays there, which is all a test of start, stop and the VNC console needs.
"""

import subprocess
import xml.etree.ElementTree as ET  # noqa: S405 - we parse only what our own libvirtd returns
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import libvirt

URI = "qemu:///system"
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "libvirtd-up"
SCRIPT_TIMEOUT = 240  # the script may wait 120 s for a lock and 60 s for libvirtd
UNDEFINE_FLAGS = (
    libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
    | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
)


def ensure_libvirtd() -> str:
    """Make sure libvirtd answers on qemu:///system (starting it if needed); return the URI.

    The work is done by scripts/libvirtd-up, so that a developer can run the same steps by
    hand (with sudo) when the tests are not run as root.
    """
    if not SCRIPT.is_file():
        raise RuntimeError(f"libvirtd: {SCRIPT} is missing; run from a ganetiweb checkout")
    try:
        result = subprocess.run(
            [str(SCRIPT)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"libvirtd: {SCRIPT} did not finish in {SCRIPT_TIMEOUT}s") from exc
    if result.returncode != 0:
        raise RuntimeError(
            f"libvirtd does not answer on {URI}; {SCRIPT} said:\n{result.stdout}{result.stderr}"
        )
    return URI


def tiny_domain_xml(
    name: str,
    memory_mib: int = 64,
    vnc_listen: str = "127.0.0.1",
    vnc_password: str | None = None,
    description: str = "",
) -> str:
    """XML for a diskless, network-less x86_64 guest that boots to the SeaBIOS firmware.

    VNC gets the first free port from 5900 up (autoport); `vnc_endpoint` reads it back.
    """
    password = "" if vnc_password is None else f" passwd={quoteattr(vnc_password)}"
    listen = quoteattr(vnc_listen)
    return f"""<domain type='qemu'>
  <name>{escape(name)}</name>
  <description>{escape(description)}</description>
  <memory unit='MiB'>{int(memory_mib)}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <graphics type='vnc' port='-1' autoport='yes' listen={listen}{password}>
      <listen type='address' address={listen}/>
    </graphics>
    <video>
      <model type='vga'/>
    </video>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def define_tiny_vm(
    conn: libvirt.virConnect, name: str, start: bool = True, **kw
) -> libvirt.virDomain:
    """Define a persistent tiny guest (see `tiny_domain_xml` for `kw`) and start it."""
    domain = conn.defineXML(tiny_domain_xml(name, **kw))
    if start:
        domain.create()
    return domain


def vnc_endpoint(domain: libvirt.virDomain) -> tuple[str, int]:
    """(host, port) of a running guest's VNC server, from its live XML."""
    root = ET.fromstring(domain.XMLDesc(0))  # noqa: S314 - XML from our own libvirtd
    graphics = root.find("./devices/graphics[@type='vnc']")
    if graphics is None:
        raise ValueError(f"{domain.name()} has no VNC display")
    port = int(graphics.get("port", "-1"))
    if port <= 0:
        raise ValueError(f"{domain.name()} has no VNC port yet; is it running?")
    return graphics.get("listen", "127.0.0.1"), port


def remove_vms(conn: libvirt.virConnect, prefix: str) -> list[str]:
    """Destroy and undefine every guest whose name starts with `prefix`; return their names.

    An empty prefix would match every guest on the host, so it is refused.
    """
    if not prefix:
        raise ValueError("remove_vms needs a non-empty prefix")
    removed = []
    for domain in conn.listAllDomains(0):
        name = domain.name()
        if name.startswith(prefix):
            remove_vm(domain)
            removed.append(name)
    return removed


def remove_vm(domain: libvirt.virDomain) -> None:
    """Destroy and undefine one guest; one that vanished meanwhile counts as removed."""
    try:
        if domain.isActive():
            domain.destroy()
        if domain.isPersistent():
            domain.undefineFlags(UNDEFINE_FLAGS)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
