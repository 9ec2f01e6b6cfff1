"""The ASGI app of the provisioning service (`vetgate serve provisioning`)."""

from fastapi import FastAPI

from vetgate_provisioning.bootstrap import bootstrap


def create_app() -> FastAPI:
    return bootstrap().create_app()
