"""A faithful stand-in for OpenNebula's ``oned`` XML-RPC endpoint (test instrument).

Standard library only.  See README.md in this directory.
"""

from .server import WRITE_METHODS, OnedServer, is_write

__all__ = ["WRITE_METHODS", "OnedServer", "is_write"]
