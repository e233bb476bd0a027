"""One self-contained HTML file per report: plotly's JS inlined, so it opens offline and can be mailed.

The page also forbids itself any network access (a Content-Security-Policy
allowing only inline scripts and styles), so a report opened on an
air-gapped machine behaves exactly as anywhere else.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jinja2
import plotly.io as pio
from markupsafe import Markup

from tinycompress import __version__
from tinycompress.errors import InputError
from tinycompress.fsutil import write_text_atomic
from tinycompress.report.kinds import ReportKind, detect_kind
from tinycompress.report.page import Page

HTML_SUFFIX = ".html"
_WANTED = "give the report.json that tinycompress compress, profile, run or demo wrote"
_PLOT_CONFIG = {"displaylogo": False, "responsive": True}

_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; \
style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tinycompress {{ version }}">
<title>{{ page.title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em 2em; color: #222; }
h1 { margin-bottom: 0.1em; }
.subtitle { color: #555; margin-top: 0; }
.note { background: #fff4d6; border-left: 5px solid #e0a400; padding: 0.6em 1em; margin: 0.5em 0; }
.plot { border: 1px solid #e3e6ea; border-radius: 4px; padding: 0.3em; margin: 1em 0; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #e3e6ea; padding: 0.25em 0.8em; text-align: left; vertical-align: top; }
td.figure { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
footer { color: #777; font-size: 0.85em; margin-top: 2em; }
</style>
</head>
<body>
<header>
<h1>{{ page.title }}</h1>
<p class="subtitle">{{ page.subtitle }}</p>
</header>
{% if page.notes %}<section class="notes">
{% for note in page.notes %}<p class="note">{{ note }}</p>
{% endfor %}</section>
{% endif %}<section class="plots">
{% for plot in plots %}<div class="plot">{{ plot }}</div>
{% endfor %}</section>
<section class="tables">
<h2>Tables</h2>
{% for table in page.tables %}<table>
<caption>{{ table.title }}</caption>
{% if table.header %}<thead><tr>{% for cell in table.header %}<th>{{ cell }}</th>{% endfor %}</tr></thead>
{% endif %}<tbody>
{% for row in table.rows %}<tr>{% for cell in row %}{% if table.header %}<td>{{ cell }}</td>{% elif loop.first %}\
<th>{{ cell }}</th>{% else %}<td class="figure">{{ cell }}</td>{% endif %}{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% endfor %}</section>
<footer>{{ kind }} report from {{ source }}, drawn by tinycompress {{ version }} with plotly (inlined; no network)\
</footer>
</body>
</html>
""")


def _plot_html(figure: Any, index: int) -> Markup:
    """One plot's div; the first carries plotly.js itself (once per page, inline: no CDN)."""
    return Markup(pio.to_html(figure, full_html=False, include_plotlyjs=index == 0, div_id=f"plot-{index}",
                              config=_PLOT_CONFIG))


def _page_html(page: Page, kind: ReportKind, source: str) -> str:
    plots = [_plot_html(figure, index) for index, figure in enumerate(page.figures)]
    return _TEMPLATE.render(page=page, plots=plots, kind=kind.name, source=source, version=__version__)


def render_html(report: dict[str, Any], source: str = "report.json") -> str:
    """The HTML page of a report tinycompress just wrote (its kind found from its keys)."""
    kind = detect_kind(report, source)
    return _page_html(kind.page(report), kind, source)


def html_path(json_path: str | os.PathLike[str]) -> Path:
    """Where the HTML of ``json_path`` goes: beside it, same name, ``.html``."""
    return Path(json_path).with_suffix(HTML_SUFFIX)


def write_html_beside(json_path: str | os.PathLike[str], report: dict[str, Any]) -> Path:
    """Write ``report``'s HTML beside its ``json_path`` (atomically); return the HTML's path."""
    target = html_path(json_path)
    try:
        return write_text_atomic(target, render_html(report, Path(json_path).name))
    except OSError as exc:
        raise InputError(f"cannot write {target} ({exc.strerror}); {Path(json_path).name} beside it is complete: "
                         f"draw the HTML later with `tinycompress report {json_path}`") from None


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A report.json given by the user, parsed; InputError (one line) for a missing, unreadable or non-JSON file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist; {_WANTED}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read {path} ({reason}); {_WANTED}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                         f"{_WANTED}") from None


def render_file(path: str | os.PathLike[str]) -> str:
    """The HTML page of the report.json at ``path``: a file from anywhere, so its content is checked.

    A file with a known kind's keys but wrong values (edited by hand, cut
    short) is an InputError naming the kind, not an internal error.
    """
    path = Path(path)
    report = load_report(path)
    kind = detect_kind(report, str(path))
    try:
        page = kind.page(report)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InputError(f"{path} has the keys of a {kind.name} report but malformed content "
                         f"({type(exc).__name__}: {exc}); {_WANTED}, unedited") from exc
    return _page_html(page, kind, path.name)
