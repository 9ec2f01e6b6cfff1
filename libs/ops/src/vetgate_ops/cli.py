"""Operator commands on the event backbone, mounted on the ``vetgate`` command line.

Read-only by default: ``replay`` prints a plan unless ``--execute``; ``republish`` and ``dlq drain`` show
what they would copy unless ``--execute``. Every change is written to the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from vetgate_ops import audit
from vetgate_ops.api_keys_cli import app as api_keys_app
from vetgate_ops.cluster import Cluster
from vetgate_ops.records import Filters, read
from vetgate_ops.replay_plan import GroupBusy, PlanOutdated, ReplayPlan, Start, apply_plan, make_plan
from vetgate_ops.republish import RepublishJob, drain_dlq_job, empty_drained, new_job, run_job
from vetgate_ops.times import parse_time, to_millis

console = Console()
Bootstrap = Annotated[
    str, typer.Option("--bootstrap", envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers")
]
Zone = Annotated[str | None, typer.Option("--tz", help="Zone for times without an offset (default UTC)")]
JOBS = Path(".vetgate/jobs")


def register(app: typer.Typer) -> None:
    app.command("topics")(topics)
    app.command("groups")(groups)
    app.command("tail")(tail)
    app.command("replay")(replay)
    app.command("republish")(republish)
    dlq = typer.Typer(help="Dead-letter topics: look, and drain back to the source topic after a fix.")
    dlq.command("drain")(dlq_drain)
    app.add_typer(dlq, name="dlq")
    app.add_typer(api_keys_app, name="api-keys")


def topics(bootstrap: Bootstrap = "127.0.0.1:9092") -> None:
    """List topics with partitions, offsets and retention."""
    table = Table("topic", "partitions", "records", "earliest", "end", "retention")
    for t in Cluster(bootstrap).topics():
        retention = "forever" if t.retention_ms in (None, -1) else f"{(t.retention_ms or 0) / 3_600_000:g} h"
        table.add_row(t.name, str(t.partitions), f"{t.messages:,}", f"{t.earliest:,}", f"{t.latest:,}", retention)
    console.print(table)


def groups(
    group: Annotated[str | None, typer.Argument(help="One group in detail (lag per partition)")] = None,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Consumer groups: state, members and lag per partition."""
    cluster = Cluster(bootstrap)
    for name in [group] if group else cluster.groups():
        state = cluster.group_state(name)
        committed = cluster.committed(name)
        ends = cluster.latest(sorted(committed))
        lag = sum(ends[tp] - (o or 0) for tp, o in committed.items())
        console.print(f"[bold]{name}[/]  {state.state.lower()}, {len(state.members)} member(s), total lag {lag:,}")
        if group:
            table = Table("topic", "partition", "committed", "end", "lag")
            for (topic, partition), offset in sorted(committed.items()):
                end = ends[(topic, partition)]
                table.add_row(topic, str(partition), str(offset), str(end), f"{end - (offset or 0):,}")
            console.print(table)


def tail(
    topic: str,
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601 or '30m ago')")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time")] = None,
    key: Annotated[str | None, typer.Option(help="Only this key (aggregate id)")] = None,
    event_type: Annotated[str | None, typer.Option("--type", help="Only event types containing this")] = None,
    tenant: Annotated[int | None, typer.Option(help="Only this provet_id (ce_subject)")] = None,
    limit: Annotated[int, typer.Option(help="At most this many records")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    tz: Zone = None,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Print a topic's records (envelope and body, secrets masked), filtered by time, key, type or tenant."""
    shown = read(
        Cluster(bootstrap),
        topic,
        since=parse_time(since, tz=tz) if since else None,
        until=parse_time(until, tz=tz) if until else None,
        filters=Filters(key=key, event_type=event_type, tenant=tenant),
        limit=limit,
    )
    for record in shown:
        if as_json:
            typer.echo(json.dumps(record.__dict__, default=str))
        else:
            h = record.headers
            console.print(
                f"[dim]{record.timestamp:%Y-%m-%d %H:%M:%S.%f}[/] {record.topic}[{record.partition}]@{record.offset} "
                f"[bold]{h.get('ce_type', '?')}[/] id={h.get('ce_id')} subject={h.get('ce_subject')} key={record.key}"
            )
            console.print_json(data=record.body)


def replay(
    group: Annotated[str, typer.Argument(help="Consumer group to move (e.g. notifier)")],
    topic: Annotated[list[str] | None, typer.Option("--topic", help="Topic(s) of the group to replay")] = None,
    partition: Annotated[list[int] | None, typer.Option("--partition", help="Only these partitions")] = None,
    from_time: Annotated[str | None, typer.Option("--from-time", help="Restart at the first record at/after")] = None,
    to_offset: Annotated[int | None, typer.Option("--to-offset", help="Restart at this offset")] = None,
    shift_by: Annotated[int | None, typer.Option("--shift-by", help="Move by N records (negative: back)")] = None,
    earliest: Annotated[bool, typer.Option("--earliest", help="Restart at the beginning")] = False,
    export: Annotated[Path | None, typer.Option(help="Save the plan as JSON to apply later with --plan")] = None,
    plan_file: Annotated[Path | None, typer.Option("--plan", help="Apply a saved plan instead")] = None,
    execute: Annotated[bool, typer.Option("--execute", help="Apply (default: dry run, changes nothing)")] = False,
    wait_for_empty: Annotated[float, typer.Option(help="Seconds to wait for live members to leave")] = 0.0,
    tz: Zone = None,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Replay into a consumer group by moving its offsets (dry run by default: prints the plan).

    The group must have no live members to execute (stop the service first, or --wait-for-empty).
    Events the group already applied are no-ops; missing ones are applied. A consumer group always
    reads to the end of the log: for a bounded range use `vetgate republish --until`.
    """
    cluster = Cluster(bootstrap)
    if plan_file is not None:
        plan = ReplayPlan.model_validate_json(plan_file.read_text())
    elif topic:
        plan = make_plan(cluster, group, topic, partition, _start(from_time, to_offset, shift_by, earliest, tz))
    else:
        raise typer.BadParameter("name the --topic(s) to replay, or apply a saved --plan")
    _print_plan(plan)
    if export is not None:
        export.write_text(plan.model_dump_json(indent=2))
        console.print(f"plan saved to {export}")
    if not execute:
        console.print("[yellow]dry run[/]: nothing changed (add --execute to apply)")
        return
    try:
        moved = apply_plan(cluster, plan, wait_for_empty=wait_for_empty)
    except (GroupBusy, PlanOutdated) as exc:
        console.print(f"[red]refused[/]: {exc}")
        raise typer.Exit(3) from None
    audit.record("replay", group=plan.group, start=plan.start.describe(), partitions=moved, messages=plan.messages)
    console.print(f"[green]applied[/]: {moved} partition(s) moved; {plan.messages:,} records will be read again")


def _start(from_time: str | None, to_offset: int | None, shift_by: int | None, earliest: bool, tz: str | None) -> Start:
    chosen = [x is not None and x is not False for x in (from_time, to_offset, shift_by, earliest)]
    if sum(chosen) != 1:
        raise typer.BadParameter("choose exactly one of --from-time, --to-offset, --shift-by, --earliest")
    if from_time is not None:
        return Start(kind="time", at=parse_time(from_time, tz=tz))
    if to_offset is not None:
        return Start(kind="offset", offset=to_offset)
    if shift_by is not None:
        return Start(kind="shift", shift=shift_by)
    return Start(kind="earliest")


def _print_plan(plan: ReplayPlan) -> None:
    table = Table("topic", "partition", "current", "→ new", "records to read", title=f"replay plan for {plan.group}")
    for m in plan.moves:
        table.add_row(m.topic, str(m.partition), str(m.current), str(m.target), f"{m.messages:,}")
    console.print(table)
    console.print(f"start: {plan.start.describe()}; {len(plan.changes)} partition(s) change, {plan.messages:,} records")


def republish(
    topic: Annotated[str | None, typer.Argument(help="Source topic")] = None,
    to: Annotated[str | None, typer.Option(help="Target topic (default: the source topic)")] = None,
    partition: Annotated[list[int] | None, typer.Option("--partition", help="Only these partitions")] = None,
    from_time: Annotated[str | None, typer.Option("--from-time", help="First record at/after this time")] = None,
    until: Annotated[str | None, typer.Option(help="Stop before records at/after this time")] = None,
    rate: Annotated[float | None, typer.Option(help="At most this many records per second")] = None,
    reprocess: Annotated[bool, typer.Option(help="Make consumers run their handlers again (audited)")] = False,
    resume: Annotated[Path | None, typer.Option(help="Continue an interrupted job from its job file")] = None,
    execute: Annotated[bool, typer.Option("--execute", help="Copy (default: show what would be copied)")] = False,
    tz: Zone = None,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Copy a bounded range of a topic (end fixed now) to a topic, with provenance headers; resumable."""
    cluster = Cluster(bootstrap)
    if resume is not None:
        job, job_file = RepublishJob.load(resume), resume
    else:
        if topic is None:
            raise typer.BadParameter("name a source topic, or --resume a job file")
        parts = cluster.all_partitions([topic], partition)
        starts = cluster.offsets_at(parts, to_millis(parse_time(from_time, tz=tz))) if from_time else None
        ends = cluster.offsets_at(parts, to_millis(parse_time(until, tz=tz))) if until else None
        job = new_job(
            cluster,
            topic,
            target_topic=to or topic,
            partitions=partition,
            start_offsets={p: o for (_, p), o in starts.items()} if starts else None,
            end_offsets={p: o for (_, p), o in ends.items()} if ends else None,
            rate=rate,
            reprocess=reprocess,
        )
        job_file = JOBS / f"{job.job_id}.json"
    _run(cluster, job, job_file, execute, action="republish")


def dlq_drain(
    group: Annotated[str, typer.Argument(help="Consumer group whose DLQ to drain (e.g. provisioning)")],
    resume: Annotated[Path | None, typer.Option(help="Continue an interrupted drain from its job file")] = None,
    execute: Annotated[bool, typer.Option("--execute", help="Drain (default: show what would be drained)")] = False,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    """Send every record of ``<group>.dlq.v1`` back to its origin topic, then empty the DLQ up to there."""
    cluster = Cluster(bootstrap)
    job = RepublishJob.load(resume) if resume else drain_dlq_job(cluster, group)
    job_file = resume or JOBS / f"{job.job_id}.json"
    if _run(cluster, job, job_file, execute, action="dlq-drain"):
        empty_drained(cluster, job)
        console.print(f"[green]emptied[/] {job.source_topic} up to the drained records")


def _run(cluster: Cluster, job: RepublishJob, job_file: Path, execute: bool, *, action: str) -> bool:
    console.print(
        f"{action} {job.job_id}: {job.source_topic} → {job.target_topic or 'the origin topic of each record'}, "
        f"{job.remaining:,} of {job.total:,} records to copy"
        + (f", at most {job.rate:g}/s" if job.rate else "")
        + (", [bold]reprocess[/]" if job.reprocess else "")
    )
    if not execute:
        console.print("[yellow]dry run[/]: nothing copied (add --execute)")
        return False
    job_file.parent.mkdir(parents=True, exist_ok=True)
    job.save(job_file)
    audit.record(
        action,
        job_id=job.job_id,
        source=job.source_topic,
        target=job.target_topic,
        reprocess=job.reprocess,
        records=job.remaining,
        job_file=str(job_file),
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("copying", total=job.total, completed=job.total - job.remaining)
        run_job(cluster, job, job_file, progress=lambda n: progress.advance(task, n))
    console.print(f"[green]done[/]: {job.copied:,} records copied; job file {job_file}")
    return True
