"""Self-contained HTML reports: inline SVG charts (matplotlib), no external assets.

Forces run air-gapped, so a report must open from a file with nothing fetched.
"""

from __future__ import annotations

import html
import io

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.note { background: #f4f4f0; border-left: 4px solid #888; padding: 0.5rem 1rem; }
figure { margin: 1rem 0; } figcaption { font-size: 0.9rem; color: #444; }
"""


def escape(text) -> str:
    return html.escape(str(text))


def svg(figure) -> str:
    """The figure as inline SVG markup (and closes it)."""
    buffer = io.StringIO()
    # No metadata block: it names licence and vocabulary addresses, and holds a date
    # (a report is then the same bytes for the same data).
    figure.savefig(buffer, format="svg", bbox_inches="tight",
                   metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prologue and doctype


def figure(chart_svg: str, caption: str) -> str:
    return f"<figure role='img' aria-label='{escape(caption)}'>{chart_svg}<figcaption>{escape(caption)}</figcaption></figure>"


def table(headings: list[str], rows: list[list]) -> str:
    head = "".join(f"<th scope='col'>{escape(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>\n")


def fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
