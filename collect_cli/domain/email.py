"""An e-mail's HTML part, made from its text (domain.headed: the subject line, a blank line,
the text): escaped, in paragraphs, web addresses as links, never from a template of its own.
What the content rules judged (the subject and the text) is all the HTML shows, so the two
parts cannot say different things.
"""

from __future__ import annotations

import html
import re

from collect_cli.domain.headed import split

_LINK = re.compile(r"https://[A-Za-z0-9._~:/?#@!$&*+,;=%-]+(?<![.,;:!?])")  # ASCII only: a link ends at a word


def html_part(body: str, *, lang: str) -> str:
    """The text of `body` as a simple HTML page: a paragraph per block of lines."""
    subject, text = split(body)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [_linked(html.escape(line.strip(), quote=True)) for line in block.splitlines() if line.strip()]
        if lines:
            paragraphs.append("<p>" + "<br>\n".join(lines) + "</p>")
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh_CN" else "en"}">\n<head><meta charset="utf-8">'
            f"<title>{html.escape(subject)}</title></head>\n"
            '<body style="font-family: sans-serif; font-size: 15px; line-height: 1.6; max-width: 40em">\n'
            + "\n".join(paragraphs) + "\n</body>\n</html>\n")


def _linked(escaped: str) -> str:
    return _LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
