"""The domain's responses, read from domain/*.yml for texts sent outside a conversation (no Rasa needed).

The worker and the booking service layer run without a Rasa model, so they read the same files Rasa
trains from: staff edit wording in one place. A placeholder `{name}` is filled like Rasa fills slots.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Mapping

import yaml

from clinic.config import PROJECT_ROOT

DOMAIN_DIR = PROJECT_ROOT / "domain"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class MissingResponse(KeyError):
    """A response the code needs is not in domain/."""


@lru_cache(maxsize=4)
def responses(directory: Path = DOMAIN_DIR) -> Dict[str, List[str]]:
    """Every response's text variants, by name."""
    found: Dict[str, List[str]] = {}
    for path in sorted(Path(directory).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variants in (data.get("responses") or {}).items():
            found[name] = [v["text"] for v in variants or [] if isinstance(v, dict) and v.get("text")]
    return found


def render(name: str, values: Mapping[str, object], directory: Path = DOMAIN_DIR) -> str:
    """The response's first text with its placeholders filled (an unknown one is left as it is)."""
    variants = responses(directory).get(name)
    if not variants:
        raise MissingResponse(f"response {name} is missing from {directory} (domain/outbox.yml)")
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), variants[0])
