"""The permission catalogue: the rights a template may grant its virtual user (docs/permissions.md).

Keys follow the platform we re-implement (provet-reference.md). catalogue validates templates against
this list; provisioning grants the rights to each tenant's permission group; tokens carry them.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "patients-clients": "Read and edit patients and their owners (clients)",
    "delete-clients": "Delete clients and their patients",
    "consultations": "Read and edit consultations",
    "clinical-notes": "Read and write clinical notes",
    "reminder": "Read and manage reminders",
    "appointments": "Read and book appointments",
    "invoices": "Read invoices and payments",
    "items": "Read the item and price list",
    "laboratory": "Send and receive laboratory requests and results",
    "reports": "Run reports",
}

USERS_GROUP_PERMISSIONS: tuple[str, ...] = (
    "patients-clients",
    "consultations",
    "clinical-notes",
    "reminder",
    "appointments",
)
"""The built-in "Users" group's rights: a template without a permission template gets these."""


def unknown_permissions(keys: list[str]) -> list[str]:
    return [key for key in keys if key not in PERMISSIONS]
