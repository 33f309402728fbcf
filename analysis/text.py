"""Making text from result files safe to show: in HTML, Markdown and matplotlib figures.

Names and values in a report come from files anyone can edit (sweep files, manifests,
shards). A right-to-left override can make ``strict`` read as ``tcirts`` or reorder a label
so one variant's numbers seem to belong to another; ``$...$`` is mathtext to matplotlib (and
an unbalanced ``$x^{2`` fails the whole figure); ``|``, ``*`` or ``[..](..)`` reshape a
Markdown table or plant a link. Everything read from files passes through these helpers.
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["BIDI_CONTROLS", "html_text", "markdown_text", "mpl_text", "strip_controls"]

# Bidirectional formatting characters: embeddings and overrides (U+202A-U+202E), isolates
# (U+2066-U+2069), marks (U+200E, U+200F) and the Arabic letter mark (U+061C).
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_CONTROLS = re.compile(f"[{BIDI_CONTROLS}\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|$~&])")


def strip_controls(x: Any) -> str:
    """``str(x)`` without bidi formatting characters and other control characters (tabs and
    newlines are kept)."""
    return _CONTROLS.sub("", str(x))


def html_text(x: Any) -> str:
    """Text for HTML: controls stripped, markup characters and quotes escaped."""
    return html.escape(strip_controls(x), quote=True)


def markdown_text(x: Any) -> str:
    """Text for a Markdown line or table cell: controls stripped, one line, and every character
    Markdown gives a meaning inside a line (``\\ | * _ [ ] < > ` $ & ~``) backslash-escaped, so it reads as
    written and cannot add cells, links, emphasis, HTML or math."""
    one_line = re.sub(r"[\r\n\t]+", " ", strip_controls(x))
    return _MARKDOWN.sub(r"\\\1", one_line)


def mpl_text(x: Any) -> str:
    """Text for a matplotlib label: controls stripped and ``$`` escaped, so it is never mathtext.

    An escaped dollar renders as a dollar whether or not math parsing is on for that text,
    which also covers tick labels matplotlib creates only when the figure is drawn.
    """
    return strip_controls(x).replace("$", r"\$")
