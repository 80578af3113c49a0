"""Text helpers for the pages: user text shown as plain text in Markdown."""

from __future__ import annotations

import re

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&/@^\"'])")


def plain(text: str) -> str:
    """User text (file and column names, values) for a Markdown element, shown exactly as written.

    Every Markdown character is backslash-escaped (which also stops `:material/icon:` and `:red[...]`),
    and a zero-width space breaks the automatic links GitHub-flavoured Markdown makes of URLs and e-mails.
    """
    text = text.replace("://", ":\u200b//").replace("@", "\u200b@")
    text = re.sub(r"(?i)www\.", "www\u200b.", text)
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
