"""Pictures of the analyst reports (matplotlib, without a display): PNG or SVG files, or SVG
text for the HTML page. Figures are converted to float here only, to place pixels."""

from __future__ import annotations

import io
from pathlib import Path

from collect_cli.errors import UsageError, unwritable
from collect_cli.services.analyst import Report, Section

SUFFIXES = (".png", ".svg")


def charted(rep: Report) -> Section | None:
    """The section of the report that has a chart (the first)."""
    return next((s for s in rep.sections if s.chart is not None), None)


def _figure(rep: Report, section: Section):
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server
    import matplotlib.pyplot as plt

    chart = section.chart
    kinds = {c.key: c.kind for c in section.columns}
    headers = {c.key: c.header for c in section.columns}

    def number(value, kind):
        if value is None:
            return float("nan")
        if kind == "money":
            return float(value) / 100  # yuan
        if kind == "pct":
            return float(value) * 100  # percent
        return float(value)

    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=110)
    if chart.kind == "curves":  # each row one line over the series columns (vintage curves)
        xs = [headers[k] for k in chart.series]
        for row in section.rows[-12:]:
            ax.plot(xs, [number(row.get(k), kinds[k]) for k in chart.series], marker=".", label=row[chart.x])
        ax.set_xlabel("months on book")
    else:
        xs = [str(r[chart.x]) for r in section.rows]
        bottom = [0.0] * len(xs)
        width = 0.8 / (len(chart.series) if chart.kind == "bar" else 1)
        for i, key in enumerate(chart.series):
            ys = [number(r.get(key), kinds[key]) for r in section.rows]
            if chart.kind == "line":
                ax.plot(xs, ys, marker="o", label=headers[key])
            elif chart.kind == "stacked":
                ax.bar(xs, ys, bottom=bottom, label=headers[key])
                bottom = [b + y for b, y in zip(bottom, ys, strict=True)]
            else:
                ax.bar([j + i * width for j in range(len(xs))], ys, width=width, label=headers[key])
                ax.set_xticks([j + width * (len(chart.series) - 1) / 2 for j in range(len(xs))], xs)
        if len(xs) > 12:
            ax.tick_params(axis="x", labelrotation=60)
    unit = {"money": " (yuan)", "pct": " (%)"}.get(kinds.get(chart.series[0], ""), "")
    ax.set_ylabel(chart.ylabel + unit)
    ax.set_title(f"{rep.title}\n{section.title}", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return plt, fig


def save(rep: Report, path: Path) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise UsageError(f"--chart {path}: a .png or .svg file")
    section = charted(rep)
    if section is None:
        raise UsageError(f"the {rep.name} report has no chart")
    plt, fig = _figure(rep, section)
    try:
        fig.savefig(path, format=path.suffix[1:].lower(), metadata={"Date": None} if path.suffix == ".svg" else None)
    except OSError as exc:
        raise unwritable(path, exc) from None
    finally:
        plt.close(fig)


def svg(rep: Report) -> str | None:
    """The report's chart as SVG text (for the HTML page), or None."""
    section = charted(rep)
    if section is None:
        return None
    plt, fig = _figure(rep, section)
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = out.getvalue()
    return text[text.index("<svg"):]  # inline: without the XML prolog
