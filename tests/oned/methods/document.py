"""Generic documents (src/document/Document.cc, src/rm/RequestManagerAllocate.cc, DocumentPoolInfo).

Documents carry a TYPE chosen by their user; their names are neither unique nor checked for characters (only
for length), an empty name becomes ``document-<id>``. The pool method filters by TYPE (5th argument).
"""

from __future__ import annotations

from .. import errors
from .. import template as T
from ..engine import HANDLERS, Ctx, filter_objs, method, new_obj, owned_fields, parse_template
from ..render import render_pool


@method("one.document.allocate")
def document_allocate(ctx: Ctx, text: str, doc_type: int) -> int:
    """``one.document.allocate(template, type)``."""
    tmpl = parse_template(text)
    names = T.erase(tmpl, "NAME")
    name = names[0] if names and isinstance(names[0], str) else ""
    if len(name) > 128:
        raise errors.internal("NAME is too long; max length is 128 chars.")
    oid = ctx.store.new_id("document")
    obj = owned_fields(ctx, oid, name or f"document-{oid}")
    obj.update(TYPE=int(doc_type), TEMPLATE=tmpl)
    return new_obj(ctx, "document", obj)


def document_pool_info(ctx: Ctx, flag: int, start: int, end: int, doc_type: int) -> str:
    """``one.documentpool.info(filter, start, end, type)``: the documents of one TYPE."""
    docs = [d for d in filter_objs(ctx, "document", flag, start, end) if d["TYPE"] == int(doc_type)]
    return render_pool(ctx.store, "document", "DOCUMENT_POOL", docs)


HANDLERS["one.documentpool.info"] = document_pool_info
