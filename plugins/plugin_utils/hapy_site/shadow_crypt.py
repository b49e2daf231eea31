# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SHA-512 crypt (``$6$``), the /etc/shadow hash glibc, ``openssl passwd -6`` and ``usermod -p`` use.

Written from Ulrich Drepper's specification ("Unix crypt using SHA-256 and SHA-512", steps numbered as there) so
that the controller needs neither Python's ``crypt`` module (gone in 3.13) nor passlib.
"""

from __future__ import annotations

import hashlib

_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: byte order of the final 64-byte digest in the base-64 output (spec step 22)
_ORDER = [(0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48), (28, 49, 7),
          (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13), (56, 14, 35),
          (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41)]
ROUNDS_DEFAULT = 5000
SALT_CHARS = _ALPHABET


def _b64(b2: int, b1: int, b0: int, count: int) -> str:
    value = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _round in range(count):
        out.append(_ALPHABET[value & 0x3F])
        value >>= 6
    return "".join(out)


def _repeat(digest: bytes, length: int) -> bytes:
    return (digest * (length // 64 + 1))[:length]


def sha512_crypt(password: str, salt: str, rounds: int = ROUNDS_DEFAULT) -> str:
    """``$6$[rounds=N$]salt$hash`` of ``password`` (salt: up to 16 characters of ``[./0-9A-Za-z]``)."""
    if not salt or any(c not in SALT_CHARS for c in salt):
        raise ValueError("salt: expected 1 to 16 characters of ./0-9A-Za-z")
    salt_b = salt[:16].encode("ascii")
    key = password.encode("utf-8")
    rounds = max(1000, min(999_999_999, rounds))
    alternate = hashlib.sha512(key + salt_b + key).digest()  # steps 4-8
    ctx = hashlib.sha512(key + salt_b + _repeat(alternate, len(key)))  # steps 1-3, 9-10
    length = len(key)
    while length:  # step 11
        ctx.update(alternate if length & 1 else key)
        length >>= 1
    digest_a = ctx.digest()
    p_bytes = _repeat(hashlib.sha512(key * len(key)).digest(), len(key))  # steps 13-16
    s_bytes = _repeat(hashlib.sha512(salt_b * (16 + digest_a[0])).digest(), len(salt_b))  # steps 17-20
    current = digest_a
    for i in range(rounds):  # step 21
        ctx = hashlib.sha512(p_bytes if i & 1 else current)
        if i % 3:
            ctx.update(s_bytes)
        if i % 7:
            ctx.update(p_bytes)
        ctx.update(current if i & 1 else p_bytes)
        current = ctx.digest()
    encoded = "".join(_b64(current[a], current[b], current[c], 4) for a, b, c in _ORDER)
    encoded += _b64(0, 0, current[63], 2)
    prefix = "$6$" if rounds == ROUNDS_DEFAULT else f"$6$rounds={rounds}$"
    return f"{prefix}{salt[:16]}${encoded}"


def salt_for(*parts: str) -> str:
    """A deterministic 16-character salt from public data (e.g. school UAI and guest name), unique per guest.

    The salt is not secret (it sits in the hash); being derived from names, re-runs produce the same hash and
    rewrite nothing, while two guests with the same password still get different hashes.
    """
    digest = hashlib.sha256("/".join(("eole.hapy", *parts)).encode("utf-8")).digest()
    return "".join(_ALPHABET[b & 0x3F] for b in digest[:16])
