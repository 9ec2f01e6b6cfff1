"""One running stack (`vetgate dev`, as `make run` starts it) shared by the black-box tests."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from stack_helpers import SERVICES, RunningStack, stack_environment, wait_until_ready


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    state = tmp_path_factory.mktemp("stack")
    env = stack_environment(state)
    urls = {n: f"http://127.0.0.1:{env[f'VETGATE_{n.upper()}_PORT']}" for n in SERVICES}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vetgate_devstack.cli", "dev"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(urls, proc)
        yield RunningStack(state, json.loads((state / "dev-credentials.json").read_text()), urls)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(90)
