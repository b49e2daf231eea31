"""System and zone methods (a solo, non-federated oned)."""

from __future__ import annotations

from .. import errors
from ..engine import (
    Ctx,
    method,
)


@method("one.system.version")
def system_version(ctx: Ctx) -> str:
    """``one.system.version()``."""
    return ctx.store.version


@method("one.system.config")
def system_config(ctx: Ctx) -> str:
    """``one.system.config()``: a few oned.conf values."""
    return ("<OPENNEBULA_CONFIGURATION><DEFAULT_UMASK>177</DEFAULT_UMASK>"
            "<MAC_PREFIX>02:00</MAC_PREFIX><PORT>2633</PORT>"
            "<VM_SUBMIT_ON_HOLD>NO</VM_SUBMIT_ON_HOLD></OPENNEBULA_CONFIGURATION>")


ZONE_XML = ("<ZONE><ID>0</ID><NAME>OpenNebula</NAME><STATE>0</STATE><TEMPLATE>"
            "<ENDPOINT><![CDATA[http://localhost:2633/RPC2]]></ENDPOINT></TEMPLATE>"
            "<SERVER_POOL></SERVER_POOL></ZONE>")


@method("one.zone.info")
def zone_info(ctx: Ctx, zid: int, *_flags: object) -> str:
    """``one.zone.info(id)``: the local zone 0."""
    if int(zid) != 0:
        raise errors.no_exists("zone", int(zid))
    return ZONE_XML


@method("one.zonepool.info")
def zonepool_info(ctx: Ctx) -> str:
    """``one.zonepool.info()``."""
    return f"<ZONE_POOL>{ZONE_XML}</ZONE_POOL>"


@method("one.zone.raftstatus")
def zone_raftstatus(ctx: Ctx) -> str:
    """A solo (non-HA) oned."""
    return ("<RAFT><SERVER_ID>-1</SERVER_ID><STATE>0</STATE><TERM>0</TERM>"
            "<VOTEDFOR>-1</VOTEDFOR><COMMIT>0</COMMIT><LOG_INDEX>0</LOG_INDEX>"
            "<LOG_TERM>0</LOG_TERM><FEDLOG_INDEX>-1</FEDLOG_INDEX></RAFT>")
