"""Locate the Java and Maven executables the embedded Kafka broker needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["InfrastructureMissing", "find_java", "find_mvn", "java_major"]

# Each error is one sentence: what is missing, then the two ways out.
_HINT = "install Java 17+ and Maven, or set KAFKA_BOOTSTRAP_SERVERS to an existing Kafka."


class InfrastructureMissing(RuntimeError):
    """A tool the embedded stack needs is not installed."""


def _from_java_home(name: str) -> str | None:
    # JAVA_HOME wins over PATH: a machine may carry several JDKs and the user chose this one.
    home = os.environ.get("JAVA_HOME")
    if not home:
        return None
    exe = Path(home) / "bin" / name
    return str(exe) if exe.is_file() and os.access(exe, os.X_OK) else None


def java_major(java: str) -> int:
    """Feature release of a JVM, e.g. 17 (0 if it cannot be told)."""
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    m = re.search(r'version "(?:1\.)?(\d+)', out.stderr + out.stdout)
    return int(m.group(1)) if m else 0


def find_java(minimum: int = 17) -> str:
    """Path of a `java` of at least `minimum` (JAVA_HOME first, then PATH)."""
    found = _from_java_home("java") or shutil.which("java")
    if found is None:
        raise InfrastructureMissing(f"No `java` was found on PATH or in JAVA_HOME, so {_HINT}")
    # Kafka 4 is built for Java 17; an older JVM would fail later with UnsupportedClassVersionError.
    major = java_major(found)
    if 0 < major < minimum:  # 0: unrecognised -version output, let the JVM speak for itself
        raise InfrastructureMissing(f"{found} is Java {major}, too old for Kafka 4, so {_HINT}")
    return found


def find_mvn() -> str:
    """Path of the `mvn` executable (MAVEN_HOME / M2_HOME first, then PATH)."""
    for var in ("MAVEN_HOME", "M2_HOME"):
        home = os.environ.get(var)
        exe = Path(home, "bin", "mvn") if home else None
        if exe is not None and exe.is_file() and os.access(exe, os.X_OK):
            return str(exe)
    found = shutil.which("mvn")
    if found is None:
        raise InfrastructureMissing(f"No `mvn` was found on PATH or in MAVEN_HOME, so {_HINT}")
    return found
