"""Huey tasks of the triage that learns; thin, they call refine and actions, which are safe to repeat."""

from __future__ import annotations

from huey.contrib.djhuey import db_task, on_startup

from smmdesk.nlp import actions, refine


@on_startup()
def warm_models() -> None:
    # Runs in each worker thread at start; the loading itself goes to one background thread, so no task
    # waits behind it.
    refine.warm_in_background()


@db_task()
def refine_messages(message_ids: list[int]) -> None:
    refine.refine(message_ids)


@db_task()
def retrain_sentiment(workspace_id: int) -> None:
    actions.retrain_sentiment(workspace_id)


@db_task()
def retrain_router(workspace_id: int) -> None:
    actions.retrain_router(workspace_id)
