"""Ids of the events provisioning emits, derived from their cause (uuid5).

Redoing the work for the same cause yields the same id, so a replay can never put a second, different
event on the bus; a new cause (a rotation, a new version of a virtual user) yields a new id.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("0c6f8e52-3a7d-4d0e-9b8f-5f3e1c2a9d47")


def client_provisioned_id(activation_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"client-provisioned:{activation_id}")


def secret_rotated_id(activation_id: uuid.UUID, generation: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"secret-rotated:{activation_id}:{generation}")


def client_revoked_id(activation_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"client-revoked:{activation_id}")


def virtual_user_changed_id(virtual_user_id: uuid.UUID, version: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"virtual-user-changed:{virtual_user_id}:{version}")
