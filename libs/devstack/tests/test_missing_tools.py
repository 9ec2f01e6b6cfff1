"""Without Java or Maven the stack says, in one sentence, what to install or what to point it at."""

from __future__ import annotations

from pathlib import Path

import pytest
from vetgate_devstack.java import InfrastructureMissing, find_java, find_mvn


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    for var in ("JAVA_HOME", "MAVEN_HOME", "M2_HOME"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.usefixtures("bare_path")
@pytest.mark.parametrize("finder", [find_java, find_mvn])
def test_a_missing_tool_is_one_clear_sentence(finder: object) -> None:
    with pytest.raises(InfrastructureMissing) as raised:
        finder()  # type: ignore[operator]
    message = str(raised.value)
    assert "Java 17+ and Maven" in message
    assert "KAFKA_BOOTSTRAP_SERVERS" in message
    assert message.count(". ") == 0 and "\n" not in message, "one sentence"


def test_an_old_java_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "java"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\"' >&2\n")
    fake.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(InfrastructureMissing, match="Java 11, too old"):
        find_java()
