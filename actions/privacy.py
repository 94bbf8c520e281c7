"""A patient's confirmed request to delete their data.

This action erases the patient's personal data in the clinic database (bookings' personal
fields and whatever else other concerns registered); the tracker store
(`clinic.tracker_store.ErasableSQLTrackerStore`) deletes the conversation itself right after
this turn is saved.
"""

import logging
from typing import List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from clinic.db.engine import session_factory
from clinic.privacy import erase_personal_data

logger = logging.getLogger(__name__)


class ActionDeleteMyData(Action):
    """Erase the patient's personal data from the clinic database, then confirm."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Erase, then tell the patient it is done (or that reception will finish it)."""
        try:
            with session_factory()() as db:
                erased = erase_personal_data(db, tracker.sender_id)
                db.commit()
            logger.info("Erased %d personal records at a patient's request.", erased)
        except Exception:  # noqa: BLE001 - the patient must get an answer whatever failed
            logger.exception("Could not erase a patient's personal data")
            dispatcher.utter_message(response="utter_data_delete_failed")
            return []
        dispatcher.utter_message(response="utter_data_deleted")
        return []
