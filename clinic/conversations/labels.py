"""The review loop: staff label the messages the NLU was unsure of; the labels become NLU training data.

`LabelRepository` saves a label (the right intent, or "not a real message") for a review message, with
the text's names, phone numbers and e-mail addresses replaced by placeholders (clinic.masking) before it
is stored. `export_nlu` writes the saved labels as Rasa NLU training data (YAML, version 3.1), one
example per distinct text (case and spaces aside; the latest label wins), for `clinic nlu export`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Type

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from clinic.config import PROJECT_ROOT
from clinic.conversations.models import NluLabel, ReviewMessage
from clinic.masking import with_placeholders

LABELLED, NOT_REAL = "labelled", "not_real"


def domain_intents(domain_dir: Path = PROJECT_ROOT / "domain") -> List[str]:
    """The domain's intents, the contract's (domain/core.yml) first, as a reviewer chooses from them."""
    ordered: List[str] = []
    files = sorted(domain_dir.glob("*.yml"), key=lambda p: (p.name != "core.yml", p.name))
    for path in files:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for intent in content.get("intents") or []:
            name = intent if isinstance(intent, str) else next(iter(intent), None)
            if name and name not in ordered:
                ordered.append(str(name))
    return ordered


@dataclass
class ReviewItem:
    """A review message with its label, if it has one."""

    message: ReviewMessage
    label: Optional[NluLabel]


class LabelRepository:
    """Review messages and their labels, in the clinic database."""

    def __init__(self, db: sessionmaker) -> None:
        self.db = db

    def page(
        self, show: str = "open", page: int = 1, per_page: int = 50
    ) -> Tuple[List[ReviewItem], int, int]:
        """(items, found, page): fallbacks and lowest confidence first; show open, labelled or all."""
        query = select(ReviewMessage, NluLabel).outerjoin(
            NluLabel, NluLabel.event_id == ReviewMessage.event_id
        )
        counted = (
            select(func.count())
            .select_from(ReviewMessage)
            .outerjoin(NluLabel, NluLabel.event_id == ReviewMessage.event_id)
        )
        if show == "open":
            query, counted = (
                query.where(NluLabel.event_id.is_(None)),
                counted.where(NluLabel.event_id.is_(None)),
            )
        elif show == "labelled":
            query = query.where(NluLabel.event_id.is_not(None))
            counted = counted.where(NluLabel.event_id.is_not(None))
        with self.db() as db:
            found = db.scalar(counted) or 0
            pages = max(1, -(-found // per_page))
            page = min(max(page, 1), pages)
            rows = db.execute(
                query.order_by(
                    ReviewMessage.fallback.desc(), ReviewMessage.confidence, ReviewMessage.event_id
                )
                .offset((page - 1) * per_page)
                .limit(per_page)
            ).all()
            db.expunge_all()
        return [ReviewItem(message, label) for message, label in rows], found, page

    def message(self, event_id: int) -> Optional[ReviewMessage]:
        """One review message."""
        with self.db() as db:
            found: Optional[ReviewMessage] = db.get(ReviewMessage, event_id)
            if found is not None:
                db.expunge(found)
            return found

    def save(
        self, event_id: int, intent: Optional[str], username: str, names: Iterable[str] = ()
    ) -> NluLabel:
        """Label a review message (intent None: not a real message); a second label replaces the first."""
        with self.db() as db:
            message = db.get(ReviewMessage, event_id)
            if message is None:
                raise LookupError(f"no review message {event_id}")
            label = db.get(NluLabel, event_id) or NluLabel(event_id=event_id)
            label.sender_id = message.sender_id
            label.text = with_placeholders(message.text, list(names))
            label.intent = intent
            label.status = LABELLED if intent else NOT_REAL
            label.labelled_by = username
            label.labelled_at = time.time()
            db.add(label)
            db.commit()
            db.refresh(label)
            db.expunge(label)
            return label

    def labelled(self) -> List[NluLabel]:
        """Every label with an intent, oldest first."""
        with self.db() as db:
            found = list(
                db.scalars(
                    select(NluLabel)
                    .where(NluLabel.status == LABELLED)
                    .order_by(NluLabel.labelled_at, NluLabel.event_id)
                )
            )
            db.expunge_all()
            return found


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def training_examples(labels: Iterable[NluLabel]) -> Dict[str, List[str]]:
    """Intent -> example texts: one per distinct text (the latest label wins), on one line each."""
    latest: Dict[str, Tuple[str, str]] = {}
    for label in labels:
        text = re.sub(r"\s+", " ", label.text).strip()
        if text and label.intent:
            latest[_key(text)] = (label.intent, text)
    examples: Dict[str, List[str]] = {}
    for intent, text in latest.values():
        examples.setdefault(intent, []).append(text)
    return {intent: sorted(texts, key=str.casefold) for intent, texts in sorted(examples.items())}


class _Literal(str):
    pass


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


def nlu_yaml(examples: Dict[str, List[str]]) -> str:
    """Rasa NLU training data (YAML 3.1) for these examples."""
    dumper: Type[yaml.SafeDumper] = type("LiteralDumper", (yaml.SafeDumper,), {})
    dumper.add_representer(_Literal, _literal)
    body = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": _Literal("".join(f"- {text}\n" for text in texts))}
            for intent, texts in examples.items()
        ],
    }
    header = (
        "# Written by `clinic nlu export` from the labels staff saved on the console's Review page.\n"
        "# Names, phone numbers and e-mail addresses are placeholders. Regenerate rather than edit.\n"
    )
    return header + yaml.dump(body, Dumper=dumper, sort_keys=False, allow_unicode=True, width=10_000)


def export_nlu(db: sessionmaker, out: Path) -> int:
    """Write the labels as NLU training data to `out`; returns the number of examples."""
    examples = training_examples(LabelRepository(db).labelled())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(nlu_yaml(examples), encoding="utf-8")
    return sum(len(texts) for texts in examples.values())


def erase_sender(db: Session, sender_id: str) -> int:
    """A patient's erasure: the labels made from their messages (caller commits)."""
    erased: int = db.execute(delete(NluLabel).where(NluLabel.sender_id == sender_id)).rowcount
    return erased
