"""The settings of the app answering the current request, for code that has no request at hand (the IRI <-> path
helpers, templates). `create_app` sets them for each request and for its start-up; nothing sets them at import."""

from __future__ import annotations

from contextvars import ContextVar

from mdkg.settings import Settings

CURRENT: ContextVar[Settings] = ContextVar("mdkg_settings")


def settings() -> Settings:
    return CURRENT.get()


class UseSettings:
    """ASGI middleware: every request (and the lifespan) of `app` sees `settings` through `settings()`."""

    def __init__(self, app, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send):
        token = CURRENT.set(self.settings)
        try:
            await self.app(scope, receive, send)
        finally:
            CURRENT.reset(token)
