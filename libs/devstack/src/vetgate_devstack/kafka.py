"""A real single-node Kafka 4 broker (KRaft, combined broker+controller) from Maven-resolved jars."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from vetgate_devstack.java import find_java, find_mvn
from vetgate_devstack.processes import die_with_parent

KAFKA_VERSION = "4.4.0"  # also the default of kafka.version in deploy/kafka/pom.xml
DEPLOY_DIR = Path(__file__).resolve().parents[4] / "deploy" / "kafka"
_MARKER = ".vetgate-complete"
_TOPIC_ALREADY_EXISTS = 36
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KafkaConfig:
    data_dir: Path  # storage (log.dirs), server.properties, server.log and broker.out
    jar_cache: Path  # shared across clones, e.g. default_jar_cache()
    port: int = 9092
    controller_port: int = 9093
    heap: str = "768m"
    deploy_dir: Path = DEPLOY_DIR  # holds pom.xml and log4j2.yaml

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


def default_jar_cache() -> Path:
    """~/.cache/vetgate/kafka-<version>/libs (honours XDG_CACHE_HOME)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "vetgate" / f"kafka-{KAFKA_VERSION}" / "libs"


def _fingerprint(cfg: KafkaConfig) -> str:
    # A pom edit or version bump must invalidate the cache, not just its absence.
    pom = (cfg.deploy_dir / "pom.xml").read_bytes()
    return hashlib.sha256(pom + KAFKA_VERSION.encode()).hexdigest()


def ensure_jars(cfg: KafkaConfig) -> Path:
    """Resolve the broker's runtime jars into cfg.jar_cache unless already complete; returns it."""
    libs, want = cfg.jar_cache, _fingerprint(cfg)
    marker = libs / _MARKER
    if marker.is_file() and marker.read_text().strip() == want:
        return libs
    libs.parent.mkdir(parents=True, exist_ok=True)
    # Several clones (or parallel test runs) may share the cache: serialise the download.
    with open(libs.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file() and marker.read_text().strip() == want:
            return libs
        tmp = libs.with_name(f"{libs.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        goal = "-q -B -Dstyle.color=never dependency:copy-dependencies -DincludeScope=runtime".split()
        pom, version = str(cfg.deploy_dir / "pom.xml"), f"-Dkafka.version={KAFKA_VERSION}"
        cmd = [find_mvn(), *goal, "-f", pom, f"-DoutputDirectory={tmp}", version]
        log.info("resolving Kafka %s jars with Maven into %s (one-time)", KAFKA_VERSION, libs)
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not (tmp / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file():
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(f"mvn failed to resolve Kafka jars:\n{(done.stdout + done.stderr)[-3000:]}")
        (tmp / _MARKER).write_text(want + "\n")
        # Swap in whole so a reader never sees a half-filled directory on the classpath.
        shutil.rmtree(libs, ignore_errors=True)
        tmp.rename(libs)
    return libs


def _server_properties(cfg: KafkaConfig) -> str:
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        # Static quorum: `format` needs no --standalone (Kafka rejects it alongside this key).
        "controller.quorum.voters": f"1@127.0.0.1:{cfg.controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{cfg.port},CONTROLLER://127.0.0.1:{cfg.controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{cfg.port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str((cfg.data_dir / "logs").resolve()),
        "num.partitions": "3",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "auto.create.topics.enable": "false",
        # One node: every internal topic must fit on it; few partitions keep first use fast.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "5",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "share.coordinator.state.topic.num.partitions": "5",
        # After a SIGKILL the restarted broker cannot register until its old incarnation's
        # session expires (default 9 s); keep that short, heartbeats are cheap on loopback.
        "broker.session.timeout.ms": "3000",
        "broker.heartbeat.interval.ms": "500",
        # Tests join, rebalance and leave groups constantly; don't make them wait.
        "group.initial.rebalance.delay.ms": "0",
        "group.min.session.timeout.ms": "1000",
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


def _java(cfg: KafkaConfig, libs: Path, *jvm_opts: str) -> list[str]:
    return [
        find_java(),
        *jvm_opts,
        f"-Dlog4j2.configurationFile={cfg.deploy_dir / 'log4j2.yaml'}",
        f"-Dkafka.logs.dir={cfg.data_dir.resolve()}",
        "-cp",
        str(libs / "*"),
    ]


def ensure_storage(cfg: KafkaConfig) -> None:
    """Write server.properties; format the log dir only if it has never been formatted."""
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    props = cfg.data_dir / "server.properties"
    props.write_text(_server_properties(cfg))  # rewritten each time so port changes apply
    if (cfg.data_dir / "logs" / "meta.properties").is_file():
        return
    # Same shape as Uuid.randomUuid() (url-safe base64, no padding), without a JVM start for it.
    cluster_id = "-"
    while cluster_id.startswith("-"):
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    fmt = ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)]
    done = subprocess.run([*_java(cfg, ensure_jars(cfg)), *fmt], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"kafka-storage format failed:\n{(done.stdout + done.stderr)[-3000:]}")


def broker_command(cfg: KafkaConfig) -> list[str]:
    """The java command line that runs the broker (jars must already be resolved)."""
    heap = ["-Xms128m", f"-Xmx{cfg.heap}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"]
    return [
        *_java(cfg, cfg.jar_cache, *heap, "-Djava.awt.headless=true"),
        "kafka.Kafka",
        str(cfg.data_dir / "server.properties"),
    ]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def start_broker(cfg: KafkaConfig) -> subprocess.Popen[bytes]:
    """Resolve jars, format if needed and launch the broker in its own process group."""
    for port in (cfg.port, cfg.controller_port):
        # Otherwise a stale broker would answer wait_until_ready while ours dies on bind.
        if not _port_free(port):
            raise RuntimeError(f"port {port} is already in use (a leftover broker?)")
    ensure_jars(cfg)
    ensure_storage(cfg)
    with open(cfg.data_dir / "broker.out", "ab") as out:
        return subprocess.Popen(
            broker_command(cfg),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cfg.data_dir,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


async def wait_until_ready(bootstrap: str, timeout: float = 60, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll until the broker answers metadata; fails fast if `proc` exits first."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Kafka exited with code {proc.returncode}; see broker.out/server.log")
        try:
            # Plain TCP first: aiokafka logs an ERROR per refused connection while the JVM boots.
            _, writer = await asyncio.open_connection(host, int(port))
            writer.close()
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
            try:
                await admin.start()
                if (await admin.describe_cluster())["brokers"]:
                    return
            finally:
                await admin.close()
        except (TimeoutError, OSError, KafkaError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"Kafka at {bootstrap} not ready after {timeout:.0f}s")
        await asyncio.sleep(0.2)


async def ensure_topics(bootstrap: str, topics: Mapping[str, int]) -> None:
    """Create the missing topics (replication 1) and wait until every partition has a leader."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        missing = set(topics) - set(await admin.list_topics())
        if missing:
            resp = await admin.create_topics([NewTopic(t, topics[t], 1) for t in sorted(missing)])
            for name, code, *msg in resp.topic_errors:
                if code not in (0, _TOPIC_ALREADY_EXISTS):  # a concurrent creator won the race
                    raise RuntimeError(f"creating topic {name} failed: error {code} {msg}")
        # Producers hitting a partition before its leader is elected get retriable-but-noisy errors.
        for _ in range(100):
            described = await admin.describe_topics(list(topics))
            if all(t["error_code"] == 0 and all(p["leader"] >= 0 for p in t["partitions"]) for t in described):
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"topics {sorted(topics)} have no leader after 10s")
    finally:
        await admin.close()


def stop_broker(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM the broker's process group (controlled shutdown), SIGKILL after `timeout`."""

    def signal_group(sig: signal.Signals) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:  # already gone
            pass

    signal_group(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("Kafka (pid %d) ignored SIGTERM for %.0fs; killing it", proc.pid, timeout)
        signal_group(signal.SIGKILL)
        proc.wait()
