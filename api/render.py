"""HTML: the Jinja2 templates (api/templates) and the filters they use, the error page, and what pages share
(highlighted quotes, links to the RDF forms). Routers render with `render(request, template, context, title)`."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup, escape

from api import formats as F
from api.state import state_of
from graph import entities as E
from graph.shape_docs import short_name

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
UI = HERE / "ui"
RDF_KEYS = ("turtle", "jsonld", "ntriples", "rdfxml")  # the RDF forms every described thing is offered in


@pass_context
def _href(context, value: str) -> str:
    return state_of(context["request"]).paths.href(value)


@pass_context
def _short(context, value: str) -> str:
    return short_name(value, str(state_of(context["request"]).settings.ns.MDKG))


def _humanise(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append(" ")
        out.append(ch.lower() if i else ch)
    return "".join(out)


def json_script(value) -> str:
    """JSON safe to put inside a <script> element."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def highlight(text: str, quotes) -> Markup:
    """The passage text (escaped) with every quote taken from it marked."""
    spans = []
    for q in {q for q in quotes if q}:
        start = text.find(q)
        while start >= 0:
            spans.append((start, start + len(q)))
            start = text.find(q, start + 1)
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, pos = [], 0
    for a, b in merged:
        out += [escape(text[pos:a]), Markup("<mark>"), escape(text[a:b]), Markup("</mark>")]
        pos = b
    out.append(escape(text[pos:]))
    return Markup("").join(out)


env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
env.filters.update(
    href=_href, short=_short, humanise=_humanise, local=E.local_name, name=E.name_of, highlight=highlight
)
env.globals["json_script"] = json_script


def compile_templates() -> None:
    """Compile every template ahead (about 60 ms in all, the entity page's 20): else each page's first visitor
    waits for its template, and so does every request the event loop holds meanwhile."""
    for name in env.list_templates(filter_func=lambda n: n.endswith(".html")):
        env.get_template(name)


def render(request: Request, template: str, context: dict, title: str, status: int = 200) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    base = state_of(request).settings.ns.base
    html = env.get_template(template).render(request=request, title=title, root=root, base=base, **context)
    return HTMLResponse(html, status_code=status)


ERROR_TITLES = {404: "Not found", 503: "Busy", 500: "Error"}


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"status": status, "message": message},
        title=ERROR_TITLES.get(status, "Error"),
        status=status,
    )


def rdf_forms(path: str) -> list[tuple[str, str]]:
    """(label, link) of the RDF forms of the thing at `path`: `/id/iom.ttl`..."""
    return [(f.label, f"{path}.{f.extension}") for f in (F.BY_KEY[k] for k in RDF_KEYS)]
