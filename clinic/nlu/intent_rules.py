"""Where the negation-aware reader, not the intent classifier, decides the intent: a rule table.

Pure Python (no Rasa imports): `decide()` takes the classifier's top intent and what the reader found,
and returns the intent the message gets, or None to keep the classifier's. The first rule that applies
wins; clinic.nlu.component.ClinicIntentRules applies it in the NLU pipeline, before the fallback.

Rules, in order:
- stated red flag: the reader found a red flag stated ("it's started bleeding"), whatever else the
  message says -> report_red_flag;
- denied red flag: report_red_flag, but every red flag is negated or a worry ("no bleeding", "could it
  bleed?") -> the describing intent if it describes the bump, else the classifier's next;
- told, not asked: ask_squeeze / ask_self_extract (or a question for the team: children, pregnancy...),
  but the message asks nothing and describes ("white stuff came out when I squeezed", "my toddler has
  hard white bumps on his nose") -> the describing intent;
- a short answer asks nothing: any other question intent on five words or fewer that state a fact and ask
  nothing ("feels hard") -> describe_bump or inform;
- description or answer: describe_bump vs inform by the contract (a named bump with facts describes
  it; one fact in a few words answers a question);
- facts over a guess: below the fallback threshold, or too close to a rival for the fallback's
  ambiguity margin, but the message states a fact and asks nothing -> describe_bump or inform (a
  low red-flag guess included: the screening question still comes before any assessment);
- a screening answer over a guess: below the threshold, but the words answer the warning-signs
  question ("none but is it cancer??", "no bleeding no fever nothing") -> inform;
- none of the warning signs: deny, but the words answer the warning-signs question with "none of
  those", "nah none", "not one of them" -> inform (the contract's answer to a question);
- facts over a weak guess: any other intent below WEAK (0.6), when the message states a fact and asks
  nothing ("No, there is no discharge." guessed as a price question) -> describe_bump or inform;
- a description whatever the guess: booking, a greeting, yes/no, thanks or out of scope, on a message that
  names a bump and states two of its facts and asks nothing -> describe_bump;
- a place is no time: choose_time, but the message names a place and no day or time ("earlobe") ->
  describe_bump or inform;
- told what was tried: ask_squeeze / ask_self_extract / ask_pain, but a short answer without a question
  says what was tried and that nothing came of it or that the patient can't tell ("nope nothing, tried
  squeezing", "havent tried squeezing so dunno") -> inform;
- not knowing is no red flag: report_red_flag, however sure, on a message of at most 12 words that only says
  the patient can't tell and names no sign ("would have to ask my husband, hes at work") -> inform;
- one fact is no red flag: a red-flag guess below 0.8 on a short answer that states one fact and names no
  sign at all ("ach its awfy hard") -> inform;
- not knowing is no yes or no: deny or affirm on a message that only says the patient can't tell, with no
  yes or no in it ("couldnt tell you") -> inform;
- a yes or no with a fact: deny or affirm, but the message states a fact and asks nothing ("nay nowt in
  it") -> describe_bump or inform;
- a price question: a question about the clinic's services (facials, prices, other services, the
  procedure) that asks a price ("how much is a facial") -> ask_prices, so no close rival sends it to the
  fallback;
- asked of the clinic: ask_self_extract, but the question is what the clinic does ("will you use a
  needle or a blade") -> ask_extraction_procedure;
- a tool at home: any other intent, but a question names a tool patients use on themselves (needle, pin,
  tweezers, comedone extractor) and not the clinic ("can i get it out with a comedone tool")
  -> ask_self_extract;
- a thumb: a message that is only a thumbs-up (or OK) emoji is affirm, only a thumbs-down is deny.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence

from clinic import findings
from clinic.contract import DESCRIBING_ENTITIES, NLU_FALLBACK, Entity, Intent, Location

RED_FLAG = Intent.REPORT_RED_FLAG
DESCRIBE = Intent.DESCRIBE_BUMP
INFORM = Intent.INFORM
SAFETY_QUESTIONS = frozenset({Intent.ASK_SQUEEZE, Intent.ASK_SELF_EXTRACT})
# Questions for the clinic's team (issue 15): a description of a child's bump is still a description.
TEAM_QUESTIONS = frozenset(
    {Intent.ASK_CHILDREN, Intent.ASK_PREGNANCY, Intent.ASK_CAUSE, Intent.ASK_RECURRENCE, Intent.ASK_AFTERCARE}
)
FALLBACK_THRESHOLD = 0.45  # the FallbackClassifier's threshold in config.yml
UNSURE_ANSWER_WORDS = 12  # "would have to ask my husband, hes at work"
SHORT_ANSWER = 5  # words: "ach its awfy hard" answers the hardness question
YOU = frozenset({"you", "u", "ya", "yous", "youse", "your", "ur", "practitioner", "nurse", "clinic"})
YES_OR_NO = findings.BARE_YES | {"no", "nope", "nah", "naw", "nay", "na", "nae"}
# Guesses a message that names a bump and states two of its facts, asking nothing, is not.
DESCRIPTION_GUESSES = frozenset({Intent.BOOK_APPOINTMENT, Intent.CHOOSE_TIME, Intent.GREET, Intent.AFFIRM,
                                 Intent.DENY, Intent.THANK, Intent.GOODBYE, Intent.OUT_OF_SCOPE,
                                 NLU_FALLBACK})
# Questions about the clinic's services: one that asks a price gets the price list (every service's price).
SERVICE_QUESTIONS = frozenset({Intent.ASK_FACIALS, Intent.ASK_PRICES, Intent.ASK_SOMETHING_ELSE,
                               Intent.ASK_EXTRACTION_PROCEDURE})
PRICE_WORDS = frozenset({"price", "prices", "cost", "costs", "charge", "fee", "fees", "£"})
# Tools patients reach for at home: a question naming one asks about self-extraction (the warning answers it).
HOME_TOOLS = frozenset({"needle", "needles", "pin", "pins", "tweezers", "tweezer", "comedone", "extractor",
                        "lancet", "lance", "scalpel"})
REMOVING = frozenset({"out", "remove", "removing", "rid", "extract", "extracting", "drain", "lance"})
SELF = frozenset({"i", "me", "my", "myself", "mum", "mam", "dad", "mate", "friend", "husband", "wife",
                  "partner", "sister", "brother", "someone", "somebody", "home", "we", "she", "he"})
WEAK = 0.6  # a guess this low loses to a stated fact when the message asks nothing
DESCRIPTION_WORDS = 6  # a sentence this long naming the bump describes it
ANSWER_WORDS = 6  # one fact in at most this many words answers a question
THUMBS_UP = frozenset({"\U0001f44d", "\U0001f44c", "\u2705", "\U0001f44f"})  # thumbs up, OK hand, check, clap
THUMBS_DOWN = frozenset({"\U0001f44e", "\u274c"})  # thumbs down, cross
SKIN_TONES = "".join(chr(c) for c in range(0x1F3FB, 0x1F400)) + "\ufe0f\u200d "


@dataclass(frozen=True)
class Decision:
    """The intent the message gets, and how sure: the classifier's other intents are capped below it."""

    intent: str
    confidence: float
    rule: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "intent", str(self.intent))  # a plain str in Rasa's message data


def _words(text: str) -> List[str]:
    return [t for t in findings.tokens(text) if t not in findings.PUNCTUATION]


def asks_something(text: str) -> bool:
    """Whether the message is a question: a question mark, or a question's words ("can i", "is it ok").

    A one- or two-word echo of the question before the answer asks nothing: "where? my nose, i said".
    """
    if findings.has_question_words(text):
        return True
    if "?" not in text:
        return False
    head, _, rest = text.partition("?")
    return len(_words(head)) > 2 or "?" in rest or not _words(rest)


# A short answer that tells what was tried ("nope nothing, tried squeezing", "havent tried squeezing so
# dunno"), taken by the classifier for a question about squeezing or pain.
ATTEMPT_ANSWER_WORDS = 10
TOLD_ATTEMPTS = frozenset({
    "tried", "squeezed", "popped", "pressed", "poked", "picked", "attempted", "trying"})
TIME_WORDS = frozenset({
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue", "tues", "wed",
    "thu", "thurs", "fri", "sat", "sun", "today", "tomorrow", "tonight", "morning", "afternoon", "evening",
    "am", "pm", "week", "weekend", "next", "noon", "midday", "lunchtime", "asap", "soon", "earliest",
    "latest"})


def describing_intent(text: str, entities: Iterable[str], current: Optional[str] = None) -> str:
    """describe_bump or inform, by the contract's definitions (README "The conversation contract").

    A description names the bump and says something about it ("lump. neck. hard.", "got a pus filled
    spot on my lip") or gives several facts in a sentence; an answer gives one fact in a few words and
    names no bump ("bone dry", "tummy", "it hasn't got anything in it"). Between the two (two facts in
    three words, "soft and weepy"), `current` (the classifier's choice) stands, else inform.
    """
    facts = len(set(entities) & DESCRIBING_ENTITIES)
    words = len(_words(text))
    named = findings.names_a_bump(text)
    if facts and named and (facts >= 2 or words >= 5):
        return DESCRIBE
    if facts >= 2 and words >= DESCRIPTION_WORDS:
        return DESCRIBE
    if facts == 1 and not named and words <= ANSWER_WORDS and not asks_something(text):
        return INFORM
    return current if current in (DESCRIBE, INFORM) else INFORM


def decide(intent: Optional[str], confidence: float, entities: Sequence[str], text: str,
           red_flag_only_negated: Optional[bool] = None) -> Optional[Decision]:
    """The intent the reader's facts give this message, or None to keep the classifier's.

    `entities` are the entity types the reader found (red flags only when stated).
    `red_flag_only_negated` may be passed in when already known (else it is computed when needed).
    """
    describes = bool(set(entities) & DESCRIBING_ENTITIES)
    if Entity.RED_FLAG in entities:
        return Decision(RED_FLAG, 1.0, "stated red flag")
    thumb = _thumb(text)
    if thumb:
        return Decision(thumb, FALLBACK_THRESHOLD + 0.15, "a thumb")
    if intent == RED_FLAG and confidence < FALLBACK_THRESHOLD and describes and not asks_something(text):
        return Decision(describing_intent(text, entities), FALLBACK_THRESHOLD + 0.15, "facts over a guess")
    if (intent == RED_FLAG and confidence < 0.8 and set(entities) & {"hardness", "fluid"}
            and "location" not in entities and len(_words(text)) <= SHORT_ANSWER
            and not asks_something(text) and not findings.red_flag_mentioned(text)):
        return Decision(INFORM, FALLBACK_THRESHOLD + 0.15, "one fact is no red flag")  # "ach its awfy hard"
    if intent == RED_FLAG and confidence < 0.8 and findings.is_bare_unsure(text):
        return Decision(INFORM, FALLBACK_THRESHOLD + 0.15, "not sure is no red flag")  # "Unknown."
    if (intent == RED_FLAG and _only_unsure(text) and len(_words(text)) <= UNSURE_ANSWER_WORDS
            and _no_sign_and_not_by_the_eye(text)):
        # "would have to ask my husband, hes at work": only not knowing, however sure the guess; the
        # warning-signs question is still asked, and a "not sure" to it is read as a maybe.
        return Decision(INFORM, FALLBACK_THRESHOLD + 0.15, "not knowing is no red flag")
    if (intent == RED_FLAG and describes and not asks_something(text)
            and _no_sign_and_not_by_the_eye(text)):  # "hardness 9/10"
        # No warning sign named, not even denied, and not by the eye ("my eye looks weird" stays): a
        # description or an answer. The warning-signs question is still asked before any assessment.
        return Decision(describing_intent(text, entities), FALLBACK_THRESHOLD + 0.15, "facts, no sign named")
    if intent == RED_FLAG:
        negated = red_flag_only_negated
        if negated is None:
            negated = findings.red_flag_only_negated(text)
        if not negated:
            return None
        if describes:
            return Decision(describing_intent(text, entities), FALLBACK_THRESHOLD + 0.15, "denied red flag")
        if not asks_something(text):  # "hasn't bled, not grown, same colour": the screening question's answer
            return Decision(INFORM, FALLBACK_THRESHOLD + 0.15, "denied red flag")
        return Decision("", 0.0, "denied red flag")  # the classifier's next intent
    if intent in TEAM_QUESTIONS and describes and not asks_something(text):
        return Decision(describing_intent(text, entities), max(confidence, FALLBACK_THRESHOLD + 0.15),
                        "told, not asked")
    if intent in SAFETY_QUESTIONS and describes and not asks_something(text):
        return Decision(describing_intent(text, entities), max(confidence, FALLBACK_THRESHOLD + 0.15),
                        "told, not asked")
    if (intent and intent.startswith("ask_") and describes and not asks_something(text)
            and len(_words(text)) <= SHORT_ANSWER):  # "feels hard" guessed as a pain question
        return Decision(describing_intent(text, entities), max(confidence, FALLBACK_THRESHOLD + 0.15),
                        "a short answer asks nothing")
    if (intent not in SAFETY_QUESTIONS and _names_doing_it_oneself(text) and asks_something(text)
            and not _asks_the_clinic(text)):  # "can i get it out with a comedone tool i bought online"
        return Decision(Intent.ASK_SELF_EXTRACT, max(confidence, FALLBACK_THRESHOLD + 0.15), "a tool at home")
    if intent in (DESCRIBE, INFORM) and describes:
        wanted = describing_intent(text, entities, intent)
        if wanted != intent:
            return Decision(wanted, max(confidence, FALLBACK_THRESHOLD + 0.15), "description or answer")
        if confidence < FALLBACK_THRESHOLD or not asks_something(text):  # no rival takes it to the fallback
            return Decision(intent, max(confidence, FALLBACK_THRESHOLD + 0.15), "facts over a guess")
        return None
    if confidence < FALLBACK_THRESHOLD and describes:
        return Decision(describing_intent(text, entities), FALLBACK_THRESHOLD + 0.15, "facts over a guess")
    if intent in ("deny", "affirm") and describes and not asks_something(text):  # "nay nowt in it"
        return Decision(describing_intent(text, entities), max(confidence, FALLBACK_THRESHOLD + 0.15),
                        "a yes or no with a fact")
    # "where my glasses sit on my nose": a place, not a request unrelated to the clinic
    if intent == Intent.OUT_OF_SCOPE and describes and not asks_something(text):
        return Decision(describing_intent(text, entities), max(confidence, FALLBACK_THRESHOLD + 0.15),
                        "a fact about the bump is in scope")
    if intent in SERVICE_QUESTIONS and not describes and _asks_a_price(text):  # "how much is a facial"
        return Decision(Intent.ASK_PRICES, max(confidence, FALLBACK_THRESHOLD + 0.15), "a price question")
    if intent == "ask_self_extract" and _asks_the_clinic(text):  # "will you use a needle or a blade"
        return Decision("ask_extraction_procedure", confidence, "asked of the clinic")
    if confidence < WEAK and describes and intent not in SAFETY_QUESTIONS and not asks_something(text):
        return Decision(describing_intent(text, entities), FALLBACK_THRESHOLD + 0.15,
                        "facts over a weak guess")
    if (intent in DESCRIPTION_GUESSES and findings.names_a_bump(text) and not asks_something(text)
            and len(set(entities) & DESCRIBING_ENTITIES) >= 2):  # "a wee plook on ma foreheid, affa hard"
        return Decision(DESCRIBE, max(confidence, FALLBACK_THRESHOLD + 0.15), "a description")
    if intent == Intent.CHOOSE_TIME and describes and not _names_a_time(text):  # "earlobe"
        return Decision(describing_intent(text, entities), max(confidence, FALLBACK_THRESHOLD + 0.15),
                        "a place is no time")
    if intent in SAFETY_QUESTIONS | {Intent.ASK_PAIN} and _tells_an_attempt(text):
        return Decision(INFORM, max(confidence, FALLBACK_THRESHOLD + 0.15), "told what was tried")
    # "she won't let me near it": can't tell, whatever the classifier guessed
    if intent not in (DESCRIBE, INFORM) and confidence < 0.8 and _only_unsure(text):
        return Decision(INFORM, FALLBACK_THRESHOLD + 0.15, "not knowing is an answer")
    if intent in (Intent.DENY, Intent.AFFIRM) and _only_unsure(text) and not set(_words(text)) & YES_OR_NO:
        return Decision(INFORM, max(confidence, FALLBACK_THRESHOLD + 0.15), "not knowing is no yes or no")
    answers_screening = findings.screening_answer(text) == "none" and len(_words(text)) > 1
    if intent == Intent.DENY and answers_screening and findings.names_none_of_them(text):
        return Decision(INFORM, max(confidence, FALLBACK_THRESHOLD + 0.15), "none of the warning signs")
    if confidence < FALLBACK_THRESHOLD and answers_screening:
        return Decision(INFORM, FALLBACK_THRESHOLD + 0.15, "a screening answer over a guess")
    return None


def _asks_a_price(text: str) -> bool:
    """Whether the message asks what something costs: "how much is a facial", "what do you charge"."""
    words = _words(text)
    return bool(set(words) & PRICE_WORDS) or any(
        a == "how" and b == "much" for a, b in zip(words, words[1:], strict=False))


def _names_doing_it_oneself(text: str) -> bool:
    """A home tool ("comedone extractor"), or taking it out at home ("get the hard bit out at home")."""
    words = _words(text)
    at_home = "home" in words or "myself" in words or "diy" in words
    return bool(set(words) & HOME_TOOLS) or (at_home and bool(set(words) & REMOVING))


def _no_sign_and_not_by_the_eye(text: str) -> bool:
    """No warning-sign words at all (not even denied), and not about the eye."""
    return not findings.red_flag_mentioned(text) and findings.location_from_text(text) != Location.EYE_AREA


def _only_unsure(text: str) -> bool:
    """The message says only that the patient can't tell (the question asked places it), and asks nothing."""
    found = findings.read(text)
    return bool(found) and all(f.value == findings.UNSURE for f in found) and not asks_something(text)


def _asks_the_clinic(text: str) -> bool:
    """A question about what the clinic does ("do you use a needle"), not about doing it oneself."""
    words = set(_words(text))
    return bool(words & YOU) and not words & SELF


def _names_a_time(text: str) -> bool:
    words = _words(text)
    return any(any(c.isdigit() for c in w) for w in words) or bool(set(words) & TIME_WORDS)


def _tells_an_attempt(text: str) -> bool:
    """A short answer, no question, that says what was tried or that nothing came out."""
    words = _words(text)
    if len(words) > ATTEMPT_ANSWER_WORDS or asks_something(text) or findings.names_a_bump(text):
        return False
    told = bool(set(words) & (TOLD_ATTEMPTS | findings.TRIED_WITH))
    return told and (findings.bare_yes_no(text) is not None or findings.unsure_in(text)
                     or any(w in findings.NEGATION_CUES for w in words))


def _thumb(text: str) -> Optional[str]:
    """Affirm for a message of only thumbs-up emoji, deny for only thumbs-down, else None."""
    marks = set(text.strip(SKIN_TONES)) - set(SKIN_TONES)
    if marks and marks <= THUMBS_UP:
        return Intent.AFFIRM
    if marks and marks <= THUMBS_DOWN:
        return Intent.DENY
    return None
