"""The event catalogue: types, topics, versioning rules and the CloudEvents envelope."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from vetgate_events import ALL_EVENTS, EnvelopeError, envelope_for, parse_envelope
from vetgate_events.asyncapi import render
from vetgate_events.catalogue import IntegrationActivated
from vetgate_events.topics import CONSUMER_GROUPS, PARTITIONS, all_topics, dlq_topic

REPO = Path(__file__).resolve().parents[3]


def activated(**overrides: object) -> IntegrationActivated:
    fields: dict[str, object] = {
        "activation_id": uuid.uuid4(),
        "template_id": uuid.uuid4(),
        "provet_id": 54321,
        "integration_name": "Reminders",
        "grant_type": "client_credentials",
        "client_type": "confidential",
        "delivery": {"kind": "hook_url", "url": "https://hooks.example/vetgate"},
        "activated_at": datetime.now(UTC),
    }
    return IntegrationActivated.model_validate(fields | overrides)


def test_every_event_has_a_unique_versioned_type_and_a_known_topic() -> None:
    types = [e.event_type() for e in ALL_EVENTS]
    assert len(types) == len(set(types))
    assert all(t.startswith("vetgate.") and t.endswith(".v1") for t in types)
    assert {e.topic for e in ALL_EVENTS} <= set(PARTITIONS)


def test_producers_cannot_add_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        activated(unexpected="x")


def test_consumers_ignore_fields_added_later_in_the_major_version() -> None:
    newer = json.loads(activated().model_dump_json()) | {"added_in_1_1": True}
    newer["delivery"]["added_in_1_1"] = "nested models relax too"
    parsed = IntegrationActivated.parse_lenient(json.dumps(newer))
    assert isinstance(parsed, IntegrationActivated)
    assert parsed.provet_id == 54321


def test_envelope_round_trips_through_kafka_headers() -> None:
    event = activated()
    envelope = envelope_for(event, source="/vetgate/catalogue", traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    headers = dict(envelope.to_headers())
    assert headers["ce_type"] == b"vetgate.IntegrationActivated.v1"
    assert headers["ce_subject"] == b"54321"
    assert headers["content-type"] == b"application/json"
    parsed = parse_envelope(envelope.to_headers(), envelope.body)
    assert (parsed.id, parsed.type, parsed.subject, parsed.traceparent) == (
        envelope.id,
        envelope.type,
        "54321",
        envelope.traceparent,
    )
    assert IntegrationActivated.parse_lenient(parsed.body) == event


def test_an_explicit_event_id_is_kept_so_redoing_work_cannot_mint_a_new_event() -> None:
    fixed = str(uuid.uuid4())
    assert envelope_for(activated(), source="/x", event_id=fixed).id == fixed


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([], "missing CloudEvents header"),
        (
            [
                ("ce_specversion", b"0.3"),
                ("ce_id", b"1"),
                ("ce_type", b"t"),
                ("ce_source", b"s"),
                ("ce_time", b"2024-01-01T00:00:00+00:00"),
            ],
            "unsupported ce_specversion",
        ),
        (
            [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"1"),
                ("ce_type", b"t"),
                ("ce_source", b"s"),
                ("ce_time", b"yesterday"),
            ],
            "ce_time is not an ISO 8601",
        ),
    ],
)
def test_unreadable_envelopes_say_why(headers: list[tuple[str, bytes]], reason: str) -> None:
    with pytest.raises(EnvelopeError, match=reason):
        parse_envelope(headers, b"{}")


def test_non_utf8_header_bytes_do_not_crash_the_parser() -> None:
    headers = envelope_for(activated(), source="/x").to_headers()
    headers = [(k, b"\xff" if k == "ce_source" else v) for k, v in headers]
    assert parse_envelope(headers, b"{}").source == "\ufffd"


def test_every_consumer_group_has_a_dlq_topic() -> None:
    topics = all_topics()
    assert all(dlq_topic(group) in topics for group in CONSUMER_GROUPS)
    assert all(t in topics for subscribed in CONSUMER_GROUPS.values() for t in subscribed)


def test_committed_asyncapi_document_matches_the_code() -> None:
    committed = (REPO / "docs" / "asyncapi.json").read_text()
    assert committed == render(), "docs/asyncapi.json drifted from the event models: run `make asyncapi`"
