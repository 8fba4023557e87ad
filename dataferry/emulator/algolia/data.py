"""The Algolia emulator's seed data: two authentications, a destination, three CSV sources (one
that works, one with failing batches, one that cannot be fetched), a task on each, and their
past runs."""

from __future__ import annotations

from typing import Any

from dataferry.emulator.algolia import rules
from dataferry.emulator.algolia.resources import RESOURCES
from dataferry.emulator.algolia.runs import Timing, new_uuid, plan_run
from dataferry.emulator.algolia.state import AlgoliaState

EXAMPLE_TASK_ID = "6c02aeb1-775e-418e-870b-1faccd4b2c0f"
"""The spec's example UUID, given to the seeded on-demand task so the docs' snippets work."""

DAY = 86400.0


def seed_history(state: AlgoliaState) -> None:
    """Put the seed resources and their past runs into ``state``."""
    now = state.now()

    def add(kind: str, record: dict[str, Any], age_days: float) -> str:
        id_field = RESOURCES[kind].id_field
        rid = record.get(id_field) or new_uuid(state.rng)
        stamp = rules.iso(now - age_days * DAY)
        state.store[kind][rid] = {id_field: rid, **record, "createdAt": stamp, "updatedAt": stamp}
        return rid

    write = add(
        "authentications",
        {
            "type": "algolia",
            "name": "Algolia write key (emulated)",
            "platform": None,
            "input": {"appID": state.app_id, "apiKey": "emulated-write-key-7f3a9c"},
        },
        30,
    )
    feed = add(
        "authentications",
        {
            "type": "basic",
            "name": "Feed server login",
            "platform": None,
            "input": {"username": "feeds", "password": "emulated-feed-pass-41d2"},
        },
        29,
    )
    index = add(
        "destinations",
        {"type": "search", "name": "Products index", "input": {"indexName": "products"}, "authenticationID": write},
        28,
    )
    csv = add(
        "sources",
        {
            "type": "csv",
            "name": "Products CSV",
            "input": {"url": "https://feeds.example.com/products.csv", "uniqueIDColumn": "sku", "delimiter": ","},
            "authenticationID": feed,
        },
        27,
    )
    flaky = add(
        "sources",
        {
            "type": "csv",
            "name": "Flaky offers feed",
            "input": {"url": "https://feeds.example.com/offers.csv?errors=20", "delimiter": ","},
        },
        26,
    )
    broken = add(
        "sources",
        {
            "type": "csv",
            "name": "Retired catalogue",
            "input": {"url": "https://feeds.example.com/critical/catalogue.csv", "delimiter": ";"},
        },
        25,
    )
    tasks = [
        add(
            "tasks",
            {
                "taskID": EXAMPLE_TASK_ID,
                "sourceID": csv,
                "destinationID": index,
                "trigger": {"type": "onDemand"},
                "enabled": True,
                "action": "replace",
                "failureThreshold": 5,
                "_criticals": 0,
            },
            24,
        ),
        add(
            "tasks",
            {
                "sourceID": flaky,
                "destinationID": index,
                "trigger": {"type": "schedule", "cron": "0 6 * * *"},
                "enabled": True,
                "action": "save",
                "failureThreshold": 10,
                "_criticals": 0,
            },
            23,
        ),
        add(
            "tasks",
            {
                "sourceID": broken,
                "destinationID": index,
                "trigger": {"type": "onDemand"},
                "enabled": True,
                "action": "partial",
                "_criticals": 0,
            },
            22,
        ),
    ]
    for task_id, ages in zip(tasks, ((9.0, 2.0, 1.0), (1.5, 0.5), (0.25,)), strict=False):
        task = state.store["tasks"][task_id]
        for age in ages:
            created = now - age * DAY
            run = plan_run(
                state.rng,
                run_id=new_uuid(state.rng),
                app_id=state.app_id,
                created=created,
                task=task,
                source=state.store["sources"][task["sourceID"]],
                timing=Timing(),
            )
            state.runs[run.run_id] = run
            task["_lastRun"] = created
