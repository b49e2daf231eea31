"""Kind-specific ``one.*`` methods; importing this package registers them all."""

from ..engine import register_generic
from . import auth, backup, compute, document, hosts, network, storage, system

register_generic()

__all__ = ["auth", "backup", "compute", "document", "hosts", "network", "storage", "system"]
