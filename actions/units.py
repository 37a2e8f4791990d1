"""Who is responsible: units of a measure or question, and what a unit is responsible for."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PolicyAction, record_question, user_text
from actions.policy import PAGE, _load, no_match_reply, present_measures, remit_reply
from actions.replies import (
    measure_line,
    measures_payload,
    parse_key,
    trim,
    units_payload,
)
from actions.scope import declined_elsewhere
from policy_db.catalogue import MeasureView, measure_key
from policy_db.runtime import Runtime

# Words of "which unit is responsible" questions; what is left names the matter itself.
ASK_UNIT_WORDS = (
    "哪个部门",
    "哪个单位",
    "哪个局",
    "什么部门",
    "哪些部门",
    "找哪",
    "找谁",
    "归谁",
    "谁管",
    "谁负责",
    "负责",
    "归哪",
    "管的",
    "部门",
    "单位",
    "这个",
    "这事",
    "这件事",
    "那个",
)


def _matter(text: str) -> str:
    for word in ASK_UNIT_WORDS:
        text = text.replace(word, "")
    return text.strip(" ？?。！!，,呢吗啊")


def units_of(measures: list[MeasureView]) -> dict[str, list[int]]:
    """Unit name → numbers of the given measures it is responsible for (document order)."""
    units: dict[str, list[int]] = {}
    for measure in measures:
        for name in measure.units:
            units.setdefault(name, []).append(measure.number)
    return units


class ActionResponsibleUnit(PolicyAction):
    """这个找哪个部门 / 招投标归谁管: the units of the matter asked about, or of the last answer."""

    def name(self) -> str:
        return "action_responsible_unit"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        if declined_elsewhere(dispatcher, tracker, runtime):
            return []
        asked = user_text(tracker)
        matter = _matter(asked)
        measures: list[MeasureView] = []
        if len(matter) >= 2 and not matter.startswith("/"):
            # No measure answers, but the matter is a unit's remit: name that unit honestly. The
            # remit choice is fitted on whole questions, "找谁" and all; a declined matter has
            # already been offered to the nearest remit by the search.
            whole = runtime.search.search(asked, limit=PAGE)
            result = whole if whole.outcome == "remit" else runtime.search.search(matter, limit=PAGE)
            route = result.route if result.outcome == "remit" else None
            if route is not None:
                candidates = result.measures[:3]
                remit_reply(dispatcher, runtime, route, candidates)
                record_question(runtime, tracker, "routed", candidates, top_score=result.top_score)
                return [SlotSet("last_measures", [measure_key(m) for m in candidates])] if candidates else []
            measures = result.measures[:1]
        if not measures:
            measures = [_load(runtime, *parse_key(k)) for k in (tracker.get_slot("last_measures") or [])[:1]]
        if not measures:
            record_question(runtime, tracker, "no_match")
            no_match_reply(dispatcher, runtime)
            return []
        top = measures[0]
        lead, *others = top.units
        text = f"第{top.number}条“{top.title}”由{lead}牵头负责" + (
            f"，{'、'.join(others)}配合。" if others else "。"
        )
        dispatcher.utter_message(text=trim(text), json_message=units_payload(units_of([top])))
        dispatcher.utter_message(text=measure_line(1, top), json_message=measures_payload([top]))
        record_question(runtime, tracker, "answered", [top], top.score)
        return [SlotSet("last_measures", [measure_key(top)])]


class ActionUnitDuties(PolicyAction):
    """税务局管哪些: the measures a unit leads first, then those it supports."""

    def name(self) -> str:
        return "action_unit_duties"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], runtime: Runtime
    ) -> list[dict[str, Any]]:
        text = user_text(tracker)
        mention = tracker.get_slot("unit") or next(tracker.get_latest_entity_values("unit"), None)
        unit = runtime.search.resolve_unit(str(mention)) if mention else None
        unit = unit or runtime.search.resolve_unit(text)
        if unit is None:
            record_question(runtime, tracker, "no_match")
            no_match_reply(dispatcher, runtime)
            return [SlotSet("unit", None)]
        duties = runtime.search.search(unit, limit=100).measures  # lead measures first
        shown = duties
        asked = runtime.search.search(text, limit=PAGE)
        if asked.kind != "unit":  # 税务局管退税吗: the unit's measures about that matter
            focused = runtime.search.search(text, unit=unit, limit=PAGE).measures
            shown = focused or duties
        lead = [m.number for m in duties if m.units and m.units[0] == unit]
        dispatcher.utter_message(
            text=f"{unit}共负责{len(duties)}条措施，其中牵头{len(lead)}条。",
            json_message=units_payload({unit: [m.number for m in duties]}),
        )
        measures = shown
        present_measures(dispatcher, measures[:PAGE], intro=f"{unit}负责的措施：", more=len(measures) > PAGE)
        record_question(runtime, tracker, "answered", measures[:PAGE], 1.0)
        return [
            SlotSet("unit", None),
            SlotSet("last_measures", [measure_key(m) for m in measures[:PAGE]]),
            SlotSet("last_query", unit),
            SlotSet("last_offset", float(PAGE)),
        ]
