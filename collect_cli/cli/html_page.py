"""One self-contained HTML page with every report and its chart: no script, no font, no link
to fetch, so it opens the same on a laptop without network as on the office intranet."""

from __future__ import annotations

import html
import os
from datetime import datetime
from pathlib import Path

from collect_cli.cli import charts
from collect_cli.cli.render import cell
from collect_cli.errors import unwritable

STYLE = """
body { font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1em; color: #444; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; } th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.85em; } nav a { margin-right: 1em; }
svg { max-width: 100%; height: auto; }
"""


def page(reports: list, *, title: str, generated: datetime) -> str:
    esc = html.escape
    parts = [f"<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>{esc(title)}</h1>",
             f"<p class=\"note\">Generated {esc(generated.isoformat(sep=' ', timespec='minutes'))} UTC by collect. "
             "Money in yuan; shares in percent.</p>",
             "<nav>" + "".join(f"<a href=\"#{esc(r.name)}\">{esc(r.name)}</a>" for r in reports) + "</nav>"]
    for rep in reports:
        parts.append(f"<h2 id=\"{esc(rep.name)}\">{esc(rep.title)}</h2>")
        picture = charts.svg(rep)
        if picture:
            parts.append(picture)  # SVG made by matplotlib from our own figures, inline
        for s in rep.sections:
            parts.append(f"<h3>{esc(s.title)}</h3><table><tr>"
                         + "".join(f"<th>{esc(c.header)}</th>" for c in s.columns) + "</tr>")
            for row in s.rows:
                parts.append("<tr>" + "".join(
                    f"<td{' class=n' if c.kind != 'text' else ''}>{esc(str(cell(row.get(c.key), c.kind, True)))}</td>"
                    for c in s.columns) + "</tr>")
            parts.append("</table>")
        parts.extend(f"<p class=\"note\">{esc(n)}</p>" for n in rep.notes)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write(path: Path, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise unwritable(path, exc) from None
