"""`make run`'s stack, as a user meets it: starts, is ready, keeps mail, stops without orphans, restarts warm."""

from __future__ import annotations

import json
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from authlib.integrations.requests_client import OAuth2Session
from stack_helpers import SERVICES, stack_environment


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    return stack_environment(tmp_path / "state")


def start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "vetgate_devstack.cli", "dev"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(env: dict[str, str], proc: subprocess.Popen[bytes], timeout: float = 180) -> float:
    started = time.monotonic()
    urls = [f"http://127.0.0.1:{env[f'VETGATE_{n.upper()}_PORT']}" for n in SERVICES]
    while time.monotonic() - started < timeout:
        assert proc.poll() is None, f"the stack exited with {proc.returncode}; logs in {env['VETGATE_HOME']}"
        try:
            if all(httpx.get(f"{u}/healthz").status_code == httpx.get(f"{u}/readyz").status_code == 200 for u in urls):
                credentials = Path(env["VETGATE_HOME"]) / "dev-credentials.json"
                if credentials.exists():
                    return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("stack not ready")


def assert_client_credentials_work(client: dict[str, str]) -> None:
    """The seeded identities work with an independent OAuth client (Authlib's), as integrators' would."""
    with OAuth2Session(client["client_id"], client["client_secret"]) as oauth:
        token = oauth.fetch_token(client["token_url"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer" and token["expires_in"] == 36_000
    introspect_url = client["token_url"].replace("/token/", "/introspect/")
    answer = httpx.post(
        introspect_url, data={"token": token["access_token"]}, auth=(client["client_id"], client["client_secret"])
    ).json()
    assert answer["active"] is True and answer["client_id"] == client["client_id"]


def assert_no_secret_in_logs(state: Path, credentials: dict[str, Any]) -> None:
    secrets = [credentials["support"]["client_secret"]]
    secrets += [t["admin"]["client_secret"] for t in credentials["tenants"]]
    secrets += [u["password"] for t in credentials["tenants"] for u in t["users"]]
    logs = "".join(p.read_text(errors="replace") for p in (state / "logs").glob("*.log"))
    assert "token issued" in logs, "the token service logged the issuance"
    assert not [s for s in secrets if s in logs]


def stop(proc: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGINT) -> list[psutil.Process]:
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(sig)
    proc.wait(timeout=90)
    _, alive = psutil.wait_procs(children, timeout=15)
    return alive


@pytest.fixture
def running(stack_env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = start(stack_env)
    yield proc
    if proc.poll() is None:
        stop(proc, signal.SIGKILL)


def test_dev_stack_starts_keeps_mail_stops_cleanly_and_restarts_on_its_data(
    stack_env: dict[str, str], running: subprocess.Popen[bytes]
) -> None:
    wait_ready(stack_env, running)
    state = Path(stack_env["VETGATE_HOME"])
    credentials = json.loads((state / "dev-credentials.json").read_text())
    assert set(credentials) >= {"support", "tenants", "kafka_bootstrap", "smtp", "mailbox_dir"}
    assert {"client_id", "client_secret", "token_url"} <= set(credentials["support"])
    tenant = credentials["tenants"][0]
    assert tenant["admin"]["token_url"].endswith(f"/{tenant['provet_id']}/oauth2/token/")
    assert {"username", "password"} <= set(tenant["users"][0])
    assert credentials["kafka_bootstrap"] == f"127.0.0.1:{stack_env['VETGATE_KAFKA_PORT']}"

    for client in (credentials["support"], tenant["admin"]):
        assert_client_credentials_work(client)
    assert_no_secret_in_logs(state, credentials)

    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "vetgate@localhost", "owner@example.com", "hello"
    mail.set_content("credentials inside")
    with smtplib.SMTP(credentials["smtp"]["host"], credentials["smtp"]["port"]) as smtp:
        smtp.send_message(mail)
    [eml] = Path(credentials["mailbox_dir"]).glob("*.eml")
    assert b"Subject: hello" in eml.read_bytes()

    assert stop(running) == [], "Ctrl-C leaves no process behind"
    assert running.returncode == 0
    assert not (state / "postgres" / "postmaster.pid").exists(), "PostgreSQL stopped"

    again = start(stack_env)
    try:
        wait_ready(stack_env, again)
        assert json.loads((state / "dev-credentials.json").read_text())["support"] == credentials["support"]
        assert list(Path(credentials["mailbox_dir"]).glob("*.eml")) == [eml], "data kept"
    finally:
        assert stop(again, signal.SIGTERM) == []
