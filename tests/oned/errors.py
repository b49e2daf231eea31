"""oned's XML-RPC error codes and message shapes (``Request::failure_message``)."""

from __future__ import annotations

SUCCESS = 0x0000
AUTHENTICATION = 0x0100
AUTHORIZATION = 0x0200
NO_EXISTS = 0x0400
ACTION = 0x0800
XML_RPC_API = 0x1000
INTERNAL = 0x2000
ALLOCATE = 0x4000
LOCKED = 0x8000


class OnedError(Exception):
    """A failed request: ``code`` plus the text after ``[method] ``."""

    def __init__(self, code: int, message: str, resp_id: int = -1) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.resp_id = resp_id


def no_exists(obj_name: str, oid: int) -> OnedError:
    """``Error getting <object> [id].``"""
    return OnedError(NO_EXISTS, f"Error getting {obj_name} [{oid}].", oid)


def action(message: str) -> OnedError:
    """ACTION error with a free message."""
    return OnedError(ACTION, message)


def internal(message: str) -> OnedError:
    """INTERNAL error with a free message (allocation/parse failures use it)."""
    return OnedError(INTERNAL, message)


def api(message: str) -> OnedError:
    """XML_RPC_API error (bad arguments)."""
    return OnedError(XML_RPC_API, message)


def allocate(obj_name: str, message: str = "") -> OnedError:
    """``Error allocating a new <object>. <message>``"""
    text = f"Error allocating a new {obj_name}."
    return OnedError(ALLOCATE, f"{text} {message}" if message else text)


def authentication() -> OnedError:
    """Wrong session."""
    return OnedError(AUTHENTICATION, "User couldn't be authenticated, aborting call.")


def locked(obj_name: str, oid: int) -> OnedError:
    """Operation on a locked object."""
    return OnedError(LOCKED, f"The resource {obj_name} is locked. [{oid}].", oid)
