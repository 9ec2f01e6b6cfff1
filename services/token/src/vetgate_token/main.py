"""The ASGI app of the token service (`vetgate serve token`)."""

from fastapi import FastAPI

from vetgate_token.bootstrap import bootstrap


def create_app() -> FastAPI:
    return bootstrap().create_app()
