"""Charts of the published tier-1 tables, drawn server-side as SVG (no JavaScript needed).

Suppressed cells are left out of the bars, never guessed; the page says so.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from matplotlib.figure import Figure

from projections.disclosure import Table

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
# Serialised as matplotlib wrote it: default namespace, and xlink:href on the glyphs' <use>.
ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)


def _svg(figure: Figure) -> str:
    """The figure as inline SVG. `Figure` without pyplot: no global state, safe in threads."""
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight")
    return without_css(out.getvalue())


def without_css(svg: str) -> str:
    """The same drawing with no <style> element and no style attribute, so the page's
    Content-Security-Policy (no inline style) lets it render: each CSS declaration becomes
    the SVG presentation attribute of the same name; matplotlib's one global rule
    (`*{stroke-linejoin: round; ...}`) goes on the root, whence it is inherited."""
    root = ET.fromstring(svg)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{SVG}}}style":
                rule = child.text or ""
                _set_declarations(root, rule[rule.find("{") + 1:rule.rfind("}")])
                parent.remove(child)
            elif child.tag == f"{{{SVG}}}metadata":  # RDF in foreign namespaces; not drawn
                parent.remove(child)
    for element in root.iter():
        _set_declarations(element, element.attrib.pop("style", ""))
    return ET.tostring(root, encoding="unicode")


def _set_declarations(element: ET.Element, css: str) -> None:
    for declaration in css.split(";"):
        name, _, value = declaration.partition(":")
        if name.strip() and value.strip():
            element.set(name.strip(), value.strip())


def bar_chart(table: Table, title: str, labels: dict[str, str], y_label: str) -> str | None:
    """Grouped bars: one group per year, one bar per column; suppressed cells omitted. None
    when no published figure is above zero: an empty axis would say nothing."""
    if not any(table.cells.values()):
        return None
    figure = Figure(figsize=(7, 3.2))
    axes = figure.subplots()
    width = 0.8 / max(1, len(table.columns))
    for n, column in enumerate(table.columns):
        values = [table.cells[(row, column)] for row in table.rows]
        xs = [i + n * width for i, v in enumerate(values) if v is not None]
        axes.bar(xs, [v for v in values if v is not None], width,
                 label=labels.get(column, column))
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(table.rows))], table.rows)
    axes.set_title(title)
    axes.set_ylabel(y_label)
    if table.columns:  # beside the axes, never over a bar
        axes.legend(fontsize="small", frameon=False, loc="upper left",
                    bbox_to_anchor=(1.01, 1.0))
    return _svg(figure)


def share_chart(shares: dict[str, float | None], title: str, y_label: str) -> str | None:
    """A line of the traced share per year (years with a suppressed share are skipped);
    None when no year has one."""
    points = [(year, share) for year, share in sorted(shares.items()) if share is not None]
    if not points:
        return None
    figure = Figure(figsize=(7, 2.6))
    axes = figure.subplots()
    axes.plot([y for y, _ in points], [s * 100 for _, s in points], marker="o")
    axes.set_ylim(0, 100)
    axes.set_ylabel(y_label)
    axes.set_title(title)
    return _svg(figure)
