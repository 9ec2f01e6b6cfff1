"""The ASGI app of the catalogue service (`vetgate serve catalogue`)."""

from fastapi import FastAPI

from vetgate_catalogue.bootstrap import bootstrap


def create_app() -> FastAPI:
    return bootstrap().create_app()
