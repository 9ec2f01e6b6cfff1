"""The deployment files agree with the code: ``compose.yaml`` and the manifests in ``deploy/k8s``.

No Docker engine is needed: ``compose.yaml`` is validated against the Compose Specification schema
(``compose-spec.json``, Apache-2.0, see ``COMPOSE-SPEC-LICENSE.md``), and what it says is compared with
what the services read — their ports, their settings' environment variables, the Kafka topics.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from vetgate_devstack.services import SERVICE_PORTS
from vetgate_events.topics import all_topics

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")
K8S_DIR = ROOT / "deploy" / "k8s"

# Read by no settings class yet (the notifier's config has no SMTP fields); the dev stack passes them
# too. Allowed here so compose can already wire Mailpit; see test_notifier_settings_read_smtp.
SMTP_VARS = frozenset({"VETGATE_SMTP_HOST", "VETGATE_SMTP_PORT"})


# --- helpers -------------------------------------------------------------------------------------


def settings_class(service: str) -> type[BaseSettings]:
    module = importlib.import_module(f"vetgate_{service}.config")
    cls: type[BaseSettings] = getattr(module, f"{service.capitalize()}Settings")
    return cls


def env_names(cls: type[BaseSettings]) -> set[str]:
    """Every environment variable ``cls`` reads (pydantic-settings: an alias replaces the prefix)."""
    assert not cls.model_config.get("case_sensitive"), "names below are compared upper-cased"
    prefix = cls.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def as_dict(environment: dict[str, Any] | list[str] | None) -> dict[str, str]:
    """A Compose ``environment`` (mapping or KEY=VALUE list) as a mapping of strings."""
    if environment is None:
        return {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def published_ports(service: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host_ip, published, target) of each ``ports`` entry (short ``IP:HOST:CONTAINER`` form)."""
    result = []
    for entry in service.get("ports", []):
        assert isinstance(entry, str), f"use the short port syntax: {entry!r}"
        host_ip, published, target = entry.split(":")
        result.append((host_ip, int(published), int(target)))
    return result


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())  # resolves the anchors and `<<:` merges
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return loaded


def validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    # The file says draft-07 (as https://…/draft-07/schema, which jsonschema does not look up by name).
    assert "draft-07" in schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


# --- compose.yaml --------------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any], schema: dict[str, Any]
) -> None:
    errors = sorted(validator(schema).iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_check_can_fail(compose: dict[str, Any], schema: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["token"]["helthcheck"] = broken["services"]["token"].pop("healthcheck")
    broken["services"]["kafka-init"]["depends_on"]["kafka"]["condition"] = "service_ready"
    paths = {"/".join(map(str, e.absolute_path)) for e in validator(schema).iter_errors(broken)}
    assert "services/token" in paths
    assert "services/kafka-init/depends_on" in paths


def test_compose_runs_the_platform(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"kafka", "kafka-init", "postgres", "mailpit", *SERVICE_PORTS}


@pytest.mark.parametrize("name", list(SERVICE_PORTS))
def test_each_service_is_the_vetgate_image_serving_itself(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service["build"] == "."
    assert service["command"] == ["serve", name]
    depends_on = service["depends_on"]
    assert depends_on["kafka-init"]["condition"] == "service_completed_successfully"
    assert depends_on["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", list(SERVICE_PORTS))
def test_each_service_listens_published_and_probed_on_its_dev_stack_port(compose: dict[str, Any], name: str) -> None:
    port = SERVICE_PORTS[name]
    service = compose["services"][name]
    env = as_dict(service["environment"])
    assert published_ports(service) == [("127.0.0.1", port, port)]
    # What the container listens on: VETGATE_<NAME>_PORT, or the settings' default.
    listening = int(env.get(f"VETGATE_{name.upper()}_PORT", settings_class(name).model_fields["port"].default))
    assert listening == port
    assert env[f"VETGATE_{name.upper()}_HOST"] == "0.0.0.0", "loopback is unreachable from outside a container"
    assert urlsplit(env[f"VETGATE_{name.upper()}_PUBLIC_BASE_URL"]).port == port
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "python"  # the slim image has no curl
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(test)


@pytest.mark.parametrize("name", list(SERVICE_PORTS))
def test_each_service_sets_only_variables_its_settings_read(compose: dict[str, Any], name: str) -> None:
    readable = env_names(settings_class(name))
    assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "LOG_LEVEL", "VETGATE_DEV"} <= readable
    unread = set(as_dict(compose["services"][name]["environment"])) - readable
    assert not unread, f"{name}: no settings field reads {sorted(unread)}"


@pytest.mark.parametrize("name", list(SERVICE_PORTS))
def test_each_service_settings_load_from_the_compose_environment(
    compose: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in list(os.environ):
        if key.startswith("VETGATE_") or key in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "LOG_LEVEL"}:
            monkeypatch.delenv(key)
    env = as_dict(compose["services"][name]["environment"])
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = settings_class(name)()
    assert settings.host == "0.0.0.0"  # type: ignore[attr-defined]
    assert settings.port == SERVICE_PORTS[name]  # type: ignore[attr-defined]
    assert settings.database_url == env["DATABASE_URL"]  # type: ignore[attr-defined]
    assert settings.kafka_bootstrap_servers == env["KAFKA_BOOTSTRAP_SERVERS"]  # type: ignore[attr-defined]
    assert settings.public_base_url == env[f"VETGATE_{name.upper()}_PUBLIC_BASE_URL"]  # type: ignore[attr-defined]
    assert settings.dev_mode is True  # type: ignore[attr-defined]


def test_notifier_settings_read_smtp() -> None:
    assert env_names(settings_class("notifier")) >= SMTP_VARS


def test_services_reach_the_infrastructure_compose_defines(compose: dict[str, Any]) -> None:
    kafka_env = as_dict(compose["services"]["kafka"]["environment"])
    advertised = {listener.split("://", 1)[1] for listener in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")}
    pg_env = as_dict(compose["services"]["postgres"]["environment"])
    for name in SERVICE_PORTS:
        env = as_dict(compose["services"][name]["environment"])
        assert set(env["KAFKA_BOOTSTRAP_SERVERS"].split(",")) <= advertised
        url = urlsplit(env["DATABASE_URL"])
        assert url.scheme == "postgresql"
        assert url.hostname in compose["services"]
        assert (url.username, url.password, url.path.lstrip("/")) == (
            pg_env["POSTGRES_USER"],
            pg_env["POSTGRES_PASSWORD"],
            pg_env["POSTGRES_DB"],
        )
    notifier = as_dict(compose["services"]["notifier"]["environment"])
    assert notifier["VETGATE_SMTP_HOST"] in compose["services"]


def _kafka_init_script(compose: dict[str, Any]) -> str:
    init = compose["services"]["kafka-init"]
    assert init["image"] == compose["services"]["kafka"]["image"]
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert init["entrypoint"] == ["/bin/sh", "-ec"]
    (script,) = init["command"]
    assert isinstance(script, str)
    # Compose interpolates `$VAR` from the host's environment; the script must escape every `$` as `$$`.
    assert "$" not in script.replace("$$", ""), "unescaped $ in kafka-init's script"
    return script.replace("$$", "$")


def test_kafka_init_lists_every_topic_with_its_partition_count(compose: dict[str, Any]) -> None:
    _kafka_init_script(compose)
    specs = as_dict(compose["services"]["kafka-init"]["environment"])["TOPICS"].split()
    listed = {name: int(partitions) for name, partitions in (spec.split(":") for spec in specs)}
    assert len(listed) == len(specs), "a topic is listed twice"
    assert listed == all_topics()


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_kafka_init_creates_exactly_those_topics(compose: dict[str, Any], tmp_path: Path) -> None:
    """Run kafka-init's script with a stand-in kafka-topics.sh and read back what it was asked to do."""
    script = _kafka_init_script(compose)
    assert "/opt/kafka/bin/kafka-topics.sh" in script
    stub, calls = tmp_path / "kafka-topics.sh", tmp_path / "calls"
    stub.write_text(
        '#!/bin/sh\nfor arg in "$@"; do printf "%s\\0" "$arg"; done >> "$CALLS"\nprintf "\\n" >> "$CALLS"\n'
    )
    stub.chmod(0o755)
    env = {
        **as_dict(compose["services"]["kafka-init"]["environment"]),
        "CALLS": str(calls),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    subprocess.run(
        [
            *compose["services"]["kafka-init"]["entrypoint"],
            script.replace("/opt/kafka/bin/kafka-topics.sh", shlex.quote(str(stub))),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=30,
    )
    created: dict[str, int] = {}
    for line in calls.read_text().splitlines():
        args = line.rstrip("\0").split("\0")
        options = dict(itertools.pairwise(args))
        assert "--create" in args and "--if-not-exists" in args, args
        assert options["--bootstrap-server"] == "kafka:9092"
        assert options["--replication-factor"] == "1"
        assert options["--topic"] not in created
        created[options["--topic"]] = int(options["--partitions"])
    assert created == all_topics()


def test_kafka_is_a_single_kraft_node(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    env = as_dict(kafka["environment"])
    assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", kafka["image"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # kafka-init owns the partition counts
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[key] == "1", key
    assert "healthcheck" in kafka and "healthcheck" in compose["services"]["postgres"]


# --- deploy/k8s ----------------------------------------------------------------------------------


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                assert isinstance(document, dict) and "kind" in document, path.name
                documents.append((path.name, document))
    return documents


def test_kustomization_includes_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    manifests = {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(manifests)


def _container_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (resolved,) = (p["containerPort"] for p in container["ports"] if p.get("name") == port)
    assert isinstance(resolved, int)
    return resolved


def test_each_deployment_serves_its_service_on_the_dev_stack_port() -> None:
    documents = k8s_documents()
    deployments = {d["metadata"]["name"]: d for _, d in documents if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"]: d for _, d in documents if d["kind"] == "Service"}
    config_maps = {d["metadata"]["name"]: d for _, d in documents if d["kind"] == "ConfigMap"}
    assert set(deployments) == set(services) == set(SERVICE_PORTS)
    for name, deployment in deployments.items():
        port = SERVICE_PORTS[name]
        pod = deployment["spec"]["template"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        (container,) = pod["spec"]["containers"]
        assert container["args"] == ["serve", name]
        assert [p["containerPort"] for p in container["ports"]] == [port]
        env = {e["name"]: e for e in container.get("env", [])}
        assert env[f"VETGATE_{name.upper()}_PORT"]["value"] == str(port)
        assert env[f"VETGATE_{name.upper()}_HOST"]["value"] == "0.0.0.0"
        assert "secretKeyRef" in env["DATABASE_URL"]["valueFrom"], "the database URL is a credential"
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = container[probe]["httpGet"]
            assert get["path"] == path and _container_port(container, get["port"]) == port, (name, probe)
        assert {"requests", "limits"} <= container["resources"].keys()
        # Every variable the pod gets is one the service's settings read.
        names = set(env)
        for source in container.get("envFrom", []):
            names |= set(config_maps[source["configMapRef"]["name"]]["data"])
        unread = names - env_names(settings_class(name))
        assert not unread, f"{name}: no settings field reads {sorted(unread)}"
        (service_port,) = services[name]["spec"]["ports"]
        assert service_port["port"] == port
        assert _container_port(container, service_port["targetPort"]) == port
        assert services[name]["spec"]["selector"].items() <= pod["metadata"]["labels"].items()


def test_kafka_bootstrap_is_configured_for_every_service() -> None:
    config_maps = {d["metadata"]["name"]: d for _, d in k8s_documents() if d["kind"] == "ConfigMap"}
    assert config_maps["vetgate-config"]["data"]["KAFKA_BOOTSTRAP_SERVERS"]
