"""The tracker store wrapper that never fakes.

Rasa 3.6's agent wraps the configured store in `FailSafeTrackerStore`, which on any error of the store
(database down, unreachable, failing) returns no tracker when reading, so the conversation starts again as
a new one, and saves into the process's own memory, never read back. With several servers that is a
patient told the disclaimer mid-triage and turns silently lost; `make bench-scaled` read back trackers with
none of the messages their patients had sent and been answered. `StrictTrackerStore` (put in its place by
`clinic-rasa`, clinic/hardening/launcher.py, through `install_strict_tracker_store`) lets the error through:
the hardened processor answers `utter_service_unavailable` and stores nothing, and the conversation carries
on where it was once the store is back.

It is a `FailSafeTrackerStore` (Rasa checks for and builds that type) and reads the store it wraps from the
wrapper's private `_tracker_store`.
"""

from __future__ import annotations

from typing import Iterable, Optional

from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.rasa_adapter.server import use_tracker_store_wrapper


class StrictTrackerStore(FailSafeTrackerStore):
    """Rasa's wrapper around the configured tracker store, without the fall-back: errors are raised."""

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The conversation's latest session, or None if it has none; a failing store raises."""
        return await self._tracker_store.retrieve(sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        """Every session of the conversation; a failing store raises."""
        return await self._tracker_store.retrieve_full_tracker(conversation_id)

    async def keys(self) -> Iterable[str]:
        """Every conversation id; a failing store raises."""
        return await self._tracker_store.keys()

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save in the configured store, or raise: never into this process's memory."""
        await self._tracker_store.save(tracker)


def install_strict_tracker_store() -> None:
    """Make Rasa's agent wrap its tracker store in StrictTrackerStore (Rasa 3.6: `rasa.core.agent`)."""
    use_tracker_store_wrapper(StrictTrackerStore)
