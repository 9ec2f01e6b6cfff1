"""An activation is one installation of a template on one tenant; its status follows the delivery."""

from __future__ import annotations

from enum import StrEnum


class ActivationStatus(StrEnum):
    PENDING = "pending"  # credentials on their way to the owner
    ACTIVE = "active"  # the owner's endpoint or mail server took them
    DELIVERY_FAILED = "delivery_failed"  # every attempt failed; recoverable from the notifier
    DEACTIVATED = "deactivated"  # removed by the tenant: its credentials no longer work


def after_delivered(status: ActivationStatus) -> ActivationStatus:
    # A late outcome never revives a removed installation.
    return status if status == ActivationStatus.DEACTIVATED else ActivationStatus.ACTIVE


def after_delivery_failed(status: ActivationStatus) -> ActivationStatus:
    # Only a first delivery decides the status: a failed re-delivery (e.g. of a rotated secret) leaves
    # an active installation active — its current credentials still work.
    return ActivationStatus.DELIVERY_FAILED if status == ActivationStatus.PENDING else status
