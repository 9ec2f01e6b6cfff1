"""Topic names (public contract: operators and tools use them) and their partition counts."""

from typing import Final

CATALOGUE_ACTIVATIONS: Final = "catalogue.activations.v1"
CATALOGUE_TEMPLATES: Final = "catalogue.templates.v1"
PROVISIONING_CLIENTS: Final = "provisioning.clients.v1"
TOKEN_CREDENTIALS: Final = "token.credentials.v1"
TOKEN_REVOCATIONS: Final = "token.revocations.v1"
TOKEN_API_KEYS: Final = "token.api-keys.v1"
NOTIFIER_DELIVERIES: Final = "notifier.deliveries.v1"

# Partition counts bound consumer parallelism; activations and client streams carry the go-live
# fan-out (one event per tenant), so they get the most.
PARTITIONS: Final[dict[str, int]] = {
    CATALOGUE_ACTIVATIONS: 12,
    CATALOGUE_TEMPLATES: 3,
    PROVISIONING_CLIENTS: 12,
    TOKEN_CREDENTIALS: 12,
    TOKEN_REVOCATIONS: 6,
    TOKEN_API_KEYS: 6,
    NOTIFIER_DELIVERIES: 12,
}

DLQ_PARTITIONS: Final = 1


def dlq_topic(consumer_group: str) -> str:
    """The dead-letter topic of a consumer group: ``<group>.dlq.v1``."""
    return f"{consumer_group}.dlq.v1"


# Which consumer group (one per consuming service) reads which topics; the DLQ of each group is
# created with the topics, and the AsyncAPI document lists these as receive operations.
CONSUMER_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "token": (PROVISIONING_CLIENTS,),
    "catalogue": (NOTIFIER_DELIVERIES,),
    "provisioning": (CATALOGUE_ACTIVATIONS, CATALOGUE_TEMPLATES),
    "notifier": (TOKEN_CREDENTIALS, TOKEN_API_KEYS),
}


def all_topics() -> dict[str, int]:
    """Every topic the platform needs, with its partition count (event topics and DLQs)."""
    return PARTITIONS | {dlq_topic(group): DLQ_PARTITIONS for group in CONSUMER_GROUPS}
