"""Runs one outbox relay in its own process, so a test can SIGKILL it for real."""

from __future__ import annotations

import argparse
import asyncio
import os

from vetgate_messaging.relay import OutboxRelay
from vetgate_platform.db import create_engine


async def main(schema: str, batch_size: int) -> None:
    engine = create_engine(os.environ["DATABASE_URL"], schema, pool_size=2)
    await OutboxRelay(engine, os.environ["KAFKA_BOOTSTRAP_SERVERS"], schema, batch_size=batch_size).run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("schema")
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.schema, args.batch_size))
