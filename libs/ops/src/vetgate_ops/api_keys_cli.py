"""``vetgate api-keys``: the legacy-key migration report, the retirement policy and revocation, for support.

Talks to the token service's API-key admin API as the support client (client_credentials). Credentials
come from options or ``VETGATE_SUPPORT_*`` variables, else from the dev stack's dev-credentials.json.
Like the other operator commands it is read-only unless ``--execute``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console
from rich.table import Table

console = Console()
DEV_CREDENTIALS = Path(".vetgate/dev-credentials.json")
TokenUrl = Annotated[str | None, typer.Option("--token-url", envvar="VETGATE_SUPPORT_TOKEN_URL")]
ClientId = Annotated[str | None, typer.Option("--client-id", envvar="VETGATE_SUPPORT_CLIENT_ID")]
Secret = Annotated[str | None, typer.Option("--client-secret", envvar="VETGATE_SUPPORT_CLIENT_SECRET")]
Env = Annotated[str | None, typer.Option("--environment", "-e", help="production or sandbox (default: all)")]

app = typer.Typer(help="Legacy API keys: who still uses them, the retirement policy, revocation.")


def _session(token_url: str | None, client_id: str | None, secret: str | None) -> httpx.Client:
    if not (token_url and client_id and secret):
        if not DEV_CREDENTIALS.exists():
            raise typer.BadParameter("give --token-url/--client-id/--client-secret (or VETGATE_SUPPORT_*)")
        support = json.loads(DEV_CREDENTIALS.read_text())["support"]
        token_url, client_id, secret = support["token_url"], support["client_id"], support["client_secret"]
    granted = httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=10)
    if granted.status_code != 200:
        raise typer.BadParameter(f"the support client got no token: {granted.json().get('error', granted.status_code)}")
    parts = urlsplit(token_url)
    bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    return httpx.Client(base_url=f"{parts.scheme}://{parts.netloc}", headers=bearer, timeout=120)


def _checked(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}[/] {response.text}")
        raise typer.Exit(1)
    return response.json()


@app.command()
def report(
    environment: Env = None,
    active_only: Annotated[bool, typer.Option("--active-only", help="Only rows with keys still active")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
    token_url: TokenUrl = None,
    client_id: ClientId = None,
    client_secret: Secret = None,
) -> None:
    """Per tenant and integration: active keys, last use, owners, and whether it already runs on OAuth."""
    params: dict[str, Any] = {"active_only": active_only} | ({"environment": environment} if environment else {})
    with _session(token_url, client_id, client_secret) as http:
        rows = _checked(http.get("/v1/api-keys/migration-report", params=params))["rows"]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("tenant", "env", "integration", "active", "keys", "last used", "uses", "owners", "on OAuth")
    for r in rows:
        migrated = "[green]yes[/]" if r["migrated"] else "[red]no[/]"
        table.add_row(
            str(r["provet_id"]),
            r["environment"],
            r["integration"] or "-",
            str(r["active_keys"]),
            str(r["keys"]),
            (r["last_used_at"] or "never")[:19],
            f"{r['uses']:,}",
            ", ".join(r["owners"]) or "-",
            migrated,
        )
    console.print(table)


@app.command()
def policy(
    environment: Annotated[str | None, typer.Argument(help="production or sandbox; omit to show both")] = None,
    cutoff: Annotated[str | None, typer.Option(help="Creation cut-off, ISO 8601 with offset")] = None,
    deadline: Annotated[str | None, typer.Option(help="Revocation deadline, ISO 8601 with offset")] = None,
    reminder_days: Annotated[list[int] | None, typer.Option("--reminder-days", help="Days before the deadline")] = None,
    execute: Annotated[bool, typer.Option("--execute", help="Save the change (else show it)")] = False,
    token_url: TokenUrl = None,
    client_id: ClientId = None,
    client_secret: Secret = None,
) -> None:
    """Show the retirement policies, or (with an environment, options and --execute) change one."""
    with _session(token_url, client_id, client_secret) as http:
        policies = {p["environment"]: p for p in _checked(http.get("/v1/api-key-policies"))["policies"]}
        if environment is not None and (cutoff or deadline or reminder_days):
            current = policies[environment]
            wanted = {
                "creation_cutoff": cutoff or current["creation_cutoff"],
                "revocation_deadline": deadline or current["revocation_deadline"],
                "reminder_days": reminder_days or current["reminder_days"],
            }
            if not execute:
                console.print(f"would set {environment}: {wanted} (add --execute)")
                return
            policies[environment] = _checked(http.put(f"/v1/api-key-policies/{environment}", json=wanted))
    table = Table("environment", "creation cut-off", "revocation deadline", "reminders (days before)")
    for p in policies.values():
        reminders = ", ".join(map(str, p["reminder_days"]))
        table.add_row(p["environment"], p["creation_cutoff"] or "-", p["revocation_deadline"] or "-", reminders)
    console.print(table)


@app.command()
def revoke(
    environment: Env = None,
    execute: Annotated[bool, typer.Option("--execute", help="Revoke (else a dry run that lists the keys)")] = False,
    token_url: TokenUrl = None,
    client_id: ClientId = None,
    client_secret: Secret = None,
) -> None:
    """Revoke every active key of an environment (all without --environment); a dry run unless --execute."""
    body: dict[str, Any] = {"dry_run": not execute, "environment": environment}
    with _session(token_url, client_id, client_secret) as http:
        answer = _checked(http.post("/v1/api-keys/revocations", json=body))
        table = Table("key id", "tenant", "env", "name", "integration", "owner", "last used")
        for k in answer["keys"]:
            owner, used = k["owner_email"] or "-", (k["last_used_at"] or "never")[:19]
            table.add_row(
                k["id"], str(k["provet_id"]), k["environment"], k["name"], k["integration"] or "-", owner, used
            )
        console.print(table)
        if not execute:
            console.print(f"{answer['count']} key(s) would be revoked (add --execute)")
            return
        job = answer["job_id"]
        while not (state := _checked(http.get(f"/v1/api-keys/revocations/{job}")))["finished"]:
            time.sleep(0.5)
        console.print(f"[green]✓[/] job {job}: {state['revoked_count']} key(s) revoked")
