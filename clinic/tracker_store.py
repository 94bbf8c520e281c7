"""Rasa's SQL tracker store, plus erasure: a conversation that ran `action_delete_my_data` is deleted.

Loaded by the Rasa server only (endpoints.yml `tracker_store.type`); the web app never imports it.
The deletion happens right after Rasa saved the turn, under the conversation's lock, so no later
save can write the erased events back.
"""

from __future__ import annotations

import logging

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

ERASE_ACTION = "action_delete_my_data"
logger = logging.getLogger(__name__)


def erasure_requested(tracker: DialogueStateTracker) -> bool:
    """Whether the patient confirmed erasure in this conversation (a fresh one never has)."""
    return any(
        isinstance(event, ActionExecuted) and event.action_name == ERASE_ACTION for event in tracker.events
    )


class ErasableSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that honours a patient's confirmed request to delete their conversation."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save the turn; then, if the patient asked for erasure, delete all of their events."""
        await super().save(tracker)
        if erasure_requested(tracker):
            with self.session_scope() as session:
                deleted = (
                    session.query(self.SQLEvent)
                    .filter(self.SQLEvent.sender_id == tracker.sender_id)
                    .delete(synchronize_session=False)
                )
                session.commit()
            logger.info("Erased a conversation at the patient's request (%d events).", deleted)
