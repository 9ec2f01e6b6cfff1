# One image for the four Vetgate services: `docker run vetgate serve <token|catalogue|provisioning|notifier>`.
#
# Build stage: uv (installed from PyPI; the ghcr.io/astral-sh/uv image is not reachable from every
# network we build on) resolves nothing — it installs exactly what uv.lock pins, without the dev group.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build

RUN pip install --no-cache-dir uv==0.13.8

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# Third-party dependencies first: this layer is rebuilt only when the lockfile or a pyproject changes.
COPY pyproject.toml uv.lock ./
COPY libs/events/pyproject.toml libs/events/
COPY libs/messaging/pyproject.toml libs/messaging/
COPY libs/platform/pyproject.toml libs/platform/
COPY libs/devstack/pyproject.toml libs/devstack/
COPY services/token/pyproject.toml services/token/
COPY services/catalogue/pyproject.toml services/catalogue/
COPY services/provisioning/pyproject.toml services/provisioning/
COPY services/notifier/pyproject.toml services/notifier/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace

# Then the workspace members, installed as wheels (not editable) so the runtime stage needs no sources.
COPY libs libs
COPY services services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable


FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="vetgate" \
      org.opencontainers.image.description="Vetgate services: token, catalogue, provisioning, notifier"

RUN groupadd --system --gid 10001 vetgate \
    && useradd --system --uid 10001 --gid vetgate --no-create-home --home-dir /app --shell /usr/sbin/nologin vetgate

COPY --from=build /app/.venv /app/.venv

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /app
USER 10001:10001

# 8001 token, 8002 catalogue, 8003 provisioning, 8004 notifier (vetgate_devstack.services.SERVICE_PORTS).
# Containers must listen on all interfaces: set VETGATE_<NAME>_HOST=0.0.0.0 (the settings default is loopback).
EXPOSE 8001 8002 8003 8004

ENTRYPOINT ["vetgate"]
CMD ["serve", "token"]
