"""The ASGI app of the notifier service (`vetgate serve notifier`)."""

from fastapi import FastAPI

from vetgate_notifier.bootstrap import bootstrap


def create_app() -> FastAPI:
    return bootstrap().create_app()
