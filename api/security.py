"""Security headers on every response (issue 7), as a pure ASGI middleware.

Every response: `X-Content-Type-Options: nosniff` (a text/plain error echoing a query is never sniffed as HTML),
`Referrer-Policy: same-origin`, `X-Frame-Options: DENY`. HTML pages get a Content-Security-Policy that allows
only this origin: no inline script or style, no eval, no plugins, no framing, forms posting here only. What the
pages need fits in it: the templates load /ui/*.js and /ui/app.css; the SPARQL query page (/query) loads the
vendored YASGUI and its own static/query.{js,css}, its example queries travel in a JSON data block (not
executed); CodeMirror sets styles through the CSSOM, which CSP does not restrict, and its drag image is a
`data:` GIF (img-src data:). Every other response gets `default-src 'none'`: a JSON or text body opened in a
browser runs nothing and loads nothing. A header a route sets itself is kept."""

from __future__ import annotations

HTML_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# The SPARQL query page (/query, /sparql for browsers): YASGUI's results table (column-resizer) inserts two fixed
# <style> elements; these hashes allow exactly those texts, nothing else inline. api.description.query_page sends
# this policy itself. (Its syntax-error tooltip underlines with an inline style attribute: blocked, cosmetic.)
YASGUI_STYLE_HASHES = (
    "'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk='",  # .grip-resizable{table-layout:fixed;} ...
    "'sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg='",  # *{cursor:col-resize!important} (while dragging)
)
QUERY_PAGE_POLICY = HTML_POLICY.replace("style-src 'self'", "style-src 'self' " + " ".join(YASGUI_STYLE_HASHES))
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
HTML_ONLY = ((b"cross-origin-opener-policy", b"same-origin"),)


def is_html(content_type: bytes) -> bool:
    mt = content_type.split(b";", 1)[0].strip().lower()
    return mt in (b"text/html", b"application/xhtml+xml", b"image/svg+xml")


class SecurityHeaders:
    """Adds the headers above to each HTTP response start message."""

    def __init__(self, app, html_policy: str = HTML_POLICY, other_policy: str = OTHER_POLICY):
        self.app = app
        self.html_policy = html_policy.encode()
        self.other_policy = other_policy.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def secured_send(message):
            if message["type"] == "http.response.start":
                message["headers"] = self.secure(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, secured_send)

    def secure(self, headers: list) -> list:
        present = {bytes(k).lower() for k, _ in headers}
        content_type = next((bytes(v) for k, v in headers if bytes(k).lower() == b"content-type"), b"")
        html = is_html(content_type)
        added = list(COMMON) + (list(HTML_ONLY) if html else [])
        added.append((b"content-security-policy", self.html_policy if html else self.other_policy))
        return headers + [(k, v) for k, v in added if k not in present]
