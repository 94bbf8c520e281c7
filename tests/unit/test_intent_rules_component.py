"""ClinicIntentRules applies the rule table to Rasa messages (clinic/nlu/component.py)."""

from rasa.shared.nlu.training_data.message import Message

from clinic.nlu import intent_rules
from clinic.nlu.component import ClinicIntentRules


def message(text, ranking, entities=()):
    m = Message(data={"text": text})
    ranked = [{"name": name, "confidence": c} for name, c in ranking]
    m.set("intent", ranked[0])
    m.set("intent_ranking", ranked)
    m.set("entities", [{"entity": e, "value": v, "start": 0, "end": 1} for e, v in entities])
    return m


def test_a_worry_about_a_red_flag_goes_to_the_next_intent_given_not_a_red_flag():
    m = message("will my skin be red and sore the next day",
                [("report_red_flag", 0.40), ("ask_aftercare", 0.35), ("ask_pain", 0.25)])
    ClinicIntentRules()._apply(m, intent_rules.Decision("", 0.0, "denied red flag"))
    assert m.get("intent")["name"] == "ask_aftercare"
    assert m.get("intent")["confidence"] > intent_rules.FALLBACK_THRESHOLD  # 0.35 / 0.60
    assert [r["name"] for r in m.get("intent_ranking")] == ["ask_aftercare", "ask_pain"]


def test_a_stated_red_flag_caps_its_rivals_below_the_fallback():
    m = message("temp of 38.5 this morning", [("inform", 0.98), ("report_red_flag", 0.02)],
                entities=[("red_flag", "fever")])
    ClinicIntentRules().process([m])
    ranking = m.get("intent_ranking")
    assert ranking[0]["name"] == "report_red_flag" and ranking[0]["confidence"] == 1.0
    assert all(r["confidence"] <= intent_rules.FALLBACK_THRESHOLD for r in ranking[1:])
