"""Bytes to text, as a browser would: BOM, header charset, meta charset, UTF-8, cp1252.

Backends in an EIM/WIM cluster answer in UTF-8 or cp1252 whatever the header
claims; decoding never raises, so any bytes give some text to judge.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]{1,40})", re.I)
_META_CHARSET = re.compile(rb"<meta[^<>]{0,500}?charset\s*=\s*[\"']?\s*([\w.:-]{1,40})", re.I)
#: Labels browsers read as windows-1252 (WHATWG Encoding): servers that say
#: latin-1 or ASCII routinely send cp1252 quotes (0x93/0x94).
_AS_CP1252 = frozenset({"latin_1", "iso8859_1", "ascii", "cp1252"})


def _codec(label: str | None, *, from_meta: bool) -> str | None:
    """Python codec for a charset label, or None when unknown or unusable."""
    if not label:
        return None
    try:
        name = codecs.lookup(label).name.replace("-", "_")
    except LookupError:
        return None
    if name in _AS_CP1252:
        return "cp1252"
    if from_meta and name.startswith("utf_16"):
        # A meta tag that could be read as ASCII cannot be UTF-16 (WHATWG).
        return "utf-8"
    return name


def decode(body: bytes, content_type: str | None) -> str:
    """Decode a body: BOM, else header charset, else meta charset, else UTF-8, else cp1252.

    A declared charset that fails strictly is treated as a lie (common with
    "UTF-8" pages holding cp1252 bytes) and the UTF-8/cp1252 guess takes over;
    the last step replaces undecodable bytes, so this never raises.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, "replace")
    header = _HEADER_CHARSET.search(content_type or "")
    meta = _META_CHARSET.search(body[:4096])
    declared = _codec(header.group(1) if header else None, from_meta=False) or _codec(
        meta.group(1).decode("ascii", "replace") if meta else None, from_meta=True
    )
    for encoding in (declared or "utf-8", "utf-8"):
        try:
            return body.decode(encoding)
        except (UnicodeError, LookupError, ValueError):
            pass
    return body.decode("cp1252", "replace")
