"""The Rasa server's response renderer: domain/ responses with the clinic's details filled in.

Set in endpoints.yml (`nlg: type: clinic.nlg.ClinicResponses`, Rasa's public hook for a custom
generator). It is Rasa's own templated generator (conditions, channels, slots) plus the values of
clinic/details.py (`{clinic_phone}`, `{emergency_advice_line}`, `{hours_today}`...), read from the
clinic's file when the server starts and again whenever the file changes. Values an action passes
(`dispatcher.utter_message(response=..., when=...)`) win over them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Optional

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from clinic.details import ClinicFile, fill


class ClinicResponses(TemplatedNaturalLanguageGenerator):
    """Rasa's templated responses, with the clinic's details from config/clinic.yml."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None,
                 clinic_file: Optional[ClinicFile] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)
        self.clinic_file = clinic_file or ClinicFile()  # a broken file stops the server here, clearly

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> Optional[Dict[str, Any]]:
        """Rasa's response, the clinic's values filled in (an action's own values first)."""
        values = {**self.clinic_file.values(datetime.now(timezone.utc)), **kwargs}
        return self.generate_from_slots(utter_action, tracker.current_slot_values(), output_channel, **values)


def response_text(agent: Any, name: str) -> Optional[str]:
    """The project's one lookup of a response's text in the loaded model's domain.

    For the channels' and the HTTP guards' own replies: the first variant with a text, the clinic's values
    in; None if the response is absent.
    """
    domain = getattr(agent, "domain", None)
    variants = (getattr(domain, "responses", None) or {}).get(name) or []
    for variant in variants:
        if variant.get("text"):
            return fill_clinic_details(agent, str(variant["text"]))
    return None


def fill_clinic_details(agent: Any, text: str) -> str:
    """A response text read straight from the domain (the channels' own replies), the clinic's values in."""
    generator = getattr(agent, "nlg", None)
    if not isinstance(generator, ClinicResponses):
        return text
    return fill(text, generator.clinic_file.values(datetime.now(timezone.utc)))
