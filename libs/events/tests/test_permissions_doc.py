"""docs/permissions.md lists exactly the permission catalogue of the code."""

import re
from pathlib import Path

from vetgate_events.permissions import PERMISSIONS, USERS_GROUP_PERMISSIONS, unknown_permissions

DOC = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"


def test_the_documented_catalogue_matches_the_code() -> None:
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| (.+?) \|$", DOC.read_text(), re.MULTILINE))
    assert rows == PERMISSIONS


def test_the_users_group_defaults_are_catalogued() -> None:
    assert unknown_permissions(list(USERS_GROUP_PERMISSIONS)) == []
    assert unknown_permissions(["consultations", "root"]) == ["root"]
