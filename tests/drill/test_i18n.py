"""Action notes and refusals in the one catalogue: every note and every validation error
is a catalogue key with arguments, English by default (unchanged, as the CLI prints it)
and Simplified Chinese in the drill's ``--lang zh``, with no English left but what the
user types (ids, action and field names)."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from common.errors import InputError
from common.i18n import CATALOGUE, Message, render, tr
from twin.actions import (
    ACTIONS,
    ActionError,
    Area,
    BackupPower,
    CloseRoad,
    Deenergise,
    Fail,
    HoldCrews,
    MutualAid,
    OpenRoad,
    Pin,
    Preposition,
    Reenergise,
    Refuel,
    ReleaseCrews,
    SetPolicy,
    action_fields,
    action_from_record,
)

ROOT = Path(__file__).resolve().parents[2]
QUIET = [{"type": "damage_map", "events": [{"time_h": 95, "assets": ["LA"],
                                           "damage_state": "slight"}]}]
#: latin words a Chinese text may keep: what the user types (action and field names, the
#: area shapes), the product's name, N-1, JSON
IDENTIFIERS = ({*ACTIONS, *(f for c in ACTIONS.values() for f in action_fields(c))}
               | {"circle", "bbox", "xmin", "ymin", "xmax", "ymax", "time_h", "until",
                  "advance_h", "advance_to", "end", "undo", "resilience", "twin", "N", "JSON"})
CJK = re.compile(r"[\u4e00-\u9fff]")


def english_left(text: str) -> list[str]:
    """The latin words of ``text`` that are not identifiers a user types."""
    return [w for w in re.findall(r"[A-Za-z][A-Za-z_]*", text)
            if w not in IDENTIFIERS and len(w) > 1]


def plain_args(m) -> list[str]:
    """Every plain (untranslated) argument of a message tree, as it may be formatted."""
    if not isinstance(m, Message):
        return [str(m), repr(m)]
    return [s for _, v in m.args for s in plain_args(v)]


def zh_without_args(m: Message) -> str:
    """The Chinese text with the plain arguments (ids, numbers, user input) taken out."""
    text = m.render("zh")
    for s in sorted(plain_args(m), key=len, reverse=True):
        text = text.replace(s, " ")
    return text


def fields_of(template: str) -> list[tuple[str, str, str]]:
    return sorted((name, spec or "", conv or "")
                  for _, name, spec, conv in string.Formatter().parse(template)
                  if name is not None)


def test_every_key_has_both_languages_with_the_same_fields():
    for key, (en, zh) in CATALOGUE.items():
        assert en and zh, key
        assert fields_of(en) == fields_of(zh), key


def test_chinese_leaves_no_english_words():
    """Every template, formatted with sample arguments, reads in Chinese."""
    for key, (_, zh) in CATALOGUE.items():
        sample = {name: 7 for name, _, _ in fields_of(zh)}
        text = tr(key, "zh", **sample)
        assert not english_left(text), (key, text)
        assert CJK.search(text) or key == "located", (key, text)  # "{where}: {text}"


def test_messages_refuse_unknown_keys_and_render_nested():
    with pytest.raises(KeyError, match="no catalogue entry 'note_nope'"):
        Message("note_nope")
    m = Message("at_time", t=24.0, text=Message("located", where="hold_crews.count", text=(
        Message("err_none_held", utility=Message("net_water")))))
    assert str(m) == "at 24 h: hold_crews.count: no water crews are held"
    assert m.render("zh") == "24 小时：hold_crews.count: 没有待命的供水抢修队"
    import pickle

    assert pickle.loads(pickle.dumps(m)) == m and render("as is", "zh") == "as is"


def _calls(path: Path, names: set[str]):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in names:
            yield node


SOURCES = ["twin/actions.py", "twin/action_handlers.py", "twin/engine.py",
           "twin/drill/session.py"]


@pytest.mark.parametrize("src", SOURCES)
def test_action_errors_are_catalogue_messages(src):
    """No refusal of an action (or of a drill step) is an English-only string."""
    path = ROOT / src
    bad = [n.lineno for n in _calls(path, {"ActionError", "DrillError"})
           if n.args and isinstance(n.args[0], ast.Constant | ast.JoinedStr | ast.BinOp)]
    assert not bad, f"{src}: English-only messages at lines {bad}"
    keys = [n.args[0].value for n in _calls(path, {"Message"})
            if n.args and isinstance(n.args[0], ast.Constant)]
    assert set(keys) <= set(CATALOGUE), set(keys) - set(CATALOGUE)


# ---------------------------------------------------------------- notes, every action type
#: each action in turn on the tiny city (an hour apart), with its note in English as it
#: was before the catalogue (unchanged) and in Chinese
NOTES = [
    (Preposition("power", 1, ("R1_1",)), "1 power crew(s) staged at R1_1",
     "1 支电力抢修队已预置于 R1_1"),
    (Fail(("SUB", "P2"), "moderate"), "2 of 2 asset(s) now moderate",
     "2 个设施中 2 个现为中度损坏"),
    (Fail(("SUB",), "slight"), "0 of 1 asset(s) now slight; 1 already as bad or worse",
     "1 个设施中 0 个现为轻微损坏；1 个已同样或更严重"),
    (HoldCrews("power", 2, 12.0), "2 power crew(s) held until 16 h",
     "2 支电力抢修队待命至 16 小时"),
    (ReleaseCrews("power", 1), "1 power crew(s) released", "已解除 1 支电力抢修队的待命"),
    (MutualAid("water", 2, ("R2_3", "R1_1"), 3.5), "2 water crew(s) arrive at 9.5 h at R2_3, R1_1",
     "2 支供水支援抢修队将于 9.5 小时到达 R2_3, R1_1"),
    (Pin(("F3", "SUB")), "2 asset(s) first in their utility's queue (F3 not damaged now)",
     "2 个设施排在所属公用事业抢修队列首位（F3 目前未受损）"),
    (SetPolicy("nearest_first"), "policy critical_first -> nearest_first",
     "抢修策略 critical_first -> nearest_first"),
    (BackupPower(("PS",), 24.0), "generator(s) with 24 h of fuel at PS",
     "已在 PS 部署发电机，燃料可用 24 小时"),
    (Refuel(("PS",), 6.5), "6.5 h more fuel at PS", "PS 增加 6.5 小时燃料"),
    (CloseRoad(("RE00-10",)), "1 asset(s) closed", "已封闭 1 个设施"),
    (OpenRoad(("RE00-10",)), "1 asset(s) reopened", "已重新开放 1 个设施"),
    (Deenergise(("F2", "F3")), "2 asset(s) de-energised", "已断电 2 个设施"),
    (Reenergise(("F2", "F3")), "2 asset(s) re-energised", "已恢复供电 2 个设施"),
]


def test_every_action_notes_what_it_did_in_english_and_chinese(engine):
    assert {type(a) for a, _, _ in NOTES} == set(ACTIONS.values())
    eng = engine(hazards=QUIET)
    for action, en, zh in NOTES:
        eng.run(eng.now + 1)
        note = eng.apply(action)
        assert isinstance(note, Message) and note.key.startswith("note_"), action
        assert str(note) == en and note.render("en") == en, action
        assert note.render("zh") == zh, action
        assert not english_left(zh_without_args(note)), (action, zh)
    assert [str(n) for n in eng.notes] == [en for _, en, _ in NOTES]


# ---------------------------------------------------------------- refusals against the run
#: refused actions at 14 h on the tiny city after NOTES (English as before the catalogue)
REFUSALS = [
    (Fail(("SUBB",)), "fail.assets: asset 'SUBB' does not exist in city 'tiny' (did you mean "
     "SUB?)"),
    (Fail(("NOPE",)), "fail.assets: asset 'NOPE' does not exist in city 'tiny'"),
    (Fail(area=Area("circle", (9e5, 9e5, 1))),
     "fail.area: the area {'circle': [900000.0, 900000.0, 1]} holds no assets"),
    (Fail(area=Area("circle", (9e5, 9e5, 1)), asset_classes=("pipe",)),
     "fail.area: the area {'circle': [900000.0, 900000.0, 1]} holds no assets of those classes"),
    (Fail(area=Area("circle", (300, 50, 80)), asset_classes=("pipes",)),
     "fail.asset_classes: unknown asset class 'pipes' (did you mean 'pipe'?)"),
    (Fail(area=Area("circle", (300, 50, 80)), asset_classes=("zzz",)),
     "fail.asset_classes: unknown asset class 'zzz' (allowed: "),
    (HoldCrews("water", 9, 2), "hold_crews.count: 9 water crews asked, water has 3 (0 already "
     "held)"),
    (ReleaseCrews("water"), "release_crews: no water crews are held"),
    (MutualAid("power", 1, ("RE00-10",)),
     "mutual_aid.assets: 'RE00-10' is a roads road_segment, not a road node"),
    (MutualAid("power", 1, ("R2_3",), 999),
     "mutual_aid.after_h: arrival at 1013 h is past the horizon 96 h"),
    (Pin(("F3",)), "pin.assets: F3 already pinned"),
    (SetPolicy("nearest_first"), "set_policy: the repair policy is already 'nearest_first'"),
    (BackupPower(("J1",), 3), "backup_power.assets: 'J1' (water junction) does not depend on "
     "power: a generator does nothing there"),
    (Refuel(("LA",), 2), "refuel.assets: no generator at LA (send one with backup_power)"),
    (CloseRoad(("LA",)), "close_road.assets: 'LA' is a power power_load, not a road segment or "
     "bridge"),
    (OpenRoad(("RE00-10",)), "open_road.assets: RE00-10 not closed by a decision"),
    (Deenergise(("PS",)), "deenergise.assets: 'PS' is a water pump_station, not a power line"),
    (Reenergise(("F2",)), "reenergise.assets: F2 not de-energised by a decision"),
    (Preposition("power", 1, ("R1_1",)), "preposition: crews are already out (the first damage "
     "has happened): send mutual_aid or pin jobs instead"),
]


def _refusal(eng, action) -> ActionError:
    with pytest.raises(ActionError) as e:
        eng.apply(action)
    return e.value


def _check_zh(err: InputError, en_start: str) -> str:
    assert str(err).startswith(en_start) and err.render("en") == str(err)
    zh = err.render("zh")
    assert CJK.search(zh) and "\n" not in zh, zh
    assert not english_left(zh_without_args(err.text)), zh
    return zh


def test_every_refusal_during_a_run_says_why_in_english_and_chinese(engine):
    eng = engine(hazards=QUIET)
    for action, _, _ in NOTES:
        eng.run(eng.now + 1)
        eng.apply(action)
    n = len(eng.decisions)
    for action, en in REFUSALS:
        _check_zh(_refusal(eng, action), f"at 14 h: {en}")
    assert len(eng.decisions) == n  # refused: nothing recorded
    eng.apply(CloseRoad(("RE00-10",)))
    zh = _check_zh(_refusal(eng, CloseRoad(("RE00-10",))),
                   "at 14 h: close_road.assets: RE00-10 already closed by a decision")
    assert zh == "14 小时：close_road.assets: RE00-10 已被决策封闭"
    eng.apply(Deenergise(("F2",)))
    _check_zh(_refusal(eng, Deenergise(("F2",))),
              "at 14 h: deenergise.assets: F2 already de-energised by a decision")
    # the crew counts
    fresh = engine(hazards=QUIET)
    zh = _check_zh(_refusal(fresh, Preposition("power", 5, ("R1_1",))),
                   "at 0 h: preposition.count: 5 power crews to stage, 2 not staged yet")
    assert zh == "0 小时：preposition.count: 要预置 5 支电力抢修队，但尚未预置的只有 2 支"
    fresh.apply(HoldCrews("power", 1, 5))
    _check_zh(_refusal(fresh, ReleaseCrews("power", 3)),
              "at 0 h: release_crews.count: 3 power crews to release, only 1 held")
    zh = _check_zh(_refusal(fresh, HoldCrews("water", 99, 12)),
                   "at 0 h: hold_crews.count: 99 water crews asked, water has 1 (0 already held)")
    assert zh == ("0 小时：hold_crews.count: 要求 99 支供水抢修队，供水共有 1 支（已待命 0 支）")
    # the engine's clock
    fresh.run(until=24)
    _check_zh(_refusal(fresh, "hold"), "apply: not an action: 'hold'")
    for until, en in [(10, "run: until=10 h is before the current time 24 h"),
                      (500, "run: until=500 h is past the horizon 96 h"),
                      (float("nan"), "run: until must be a finite number of hours")]:
        with pytest.raises(ActionError) as e:
            fresh.run(until=until)
        _check_zh(e.value, en)
    with pytest.raises(ActionError) as e:
        fresh.fork(31)
    _check_zh(e.value, "fork: can fork only between 0 and now (24 h), not at 31 h")


# ---------------------------------------------------------------- refusals of the records
RECORDS = [
    ({"action": "hold_crew", "utility": "water", "count": 1, "duration_h": 2},
     "action: unknown action 'hold_crew' (did you mean 'hold_crews'?)"),
    ({"action": "zzz"}, "action: unknown action 'zzz' (allowed: fail, "),
    ({"action": "fail", "assets": ["SUB"], "damage_state": "ruined"},
     "fail.damage_state: unknown damage state 'ruined' (allowed: slight, moderate, extensive, "
     "complete)"),
    ({"action": "hold_crews", "utility": "sewer", "count": 1, "duration_h": 2},
     "hold_crews.utility: unknown utility 'sewer' (allowed: power, water, roads, gas, "
     "telecom)"),
    ({"action": "hold_crews", "utility": "water", "count": 0, "duration_h": 2},
     "hold_crews.count: must be a whole number >= 1 (got 0)"),
    ({"action": "hold_crews", "utility": "water", "count": 1, "duration_h": -1},
     "hold_crews.duration_h: must be a finite number of hours > 0 (got -1)"),
    ({"action": "mutual_aid", "utility": "water", "count": 1, "assets": ["R1_1"],
      "after_h": -1}, "mutual_aid.after_h: must be a finite number of hours >= 0 (got -1)"),
    ({"action": "hold_crews", "utility": "water", "count": 1}, "hold_crews: needs duration_h"),
    ({"action": "backup_power", "assets": ["PS"], "hour": 3},
     "backup_power: field 'hour' does not apply to backup_power (did you mean 'hours'?)"),
    ({"action": "pin", "assets": ["PS"], "zzz": 3},
     "pin: field 'zzz' does not apply to pin (pin takes: assets)"),
    ({"action": "set_policy", "policy": "nearest"},
     "set_policy.policy: unknown policy 'nearest' (did you mean 'nearest_first'?)"),
    ({"action": "set_policy", "policy": "zzz"}, "set_policy.policy: unknown policy 'zzz' "
     "(allowed: "),
    ({"action": "pin", "assets": [3]}, "pin.assets: must be a list of asset ids (got (3,))"),
    ({"action": "pin", "assets": []}, "pin.assets: needs at least one asset id"),
    ({"action": "fail", "area": {"circle": [0, 0, -5]}}, "fail.area: circle [0, 0, -5] is empty"),
    ({"action": "fail", "area": {"hexagon": [0, 0, 5]}},
     "fail.area: unknown area 'hexagon' (allowed: circle, bbox)"),
    ({"action": "fail", "area": {"bbox": [0, 0, 5]}},
     "fail.area: bbox needs 4 finite numbers (got [0, 0, 5])"),
    ({"action": "fail", "area": {"bbox": 5}}, "fail.area: bbox needs a list of numbers (got 5)"),
    ({"action": "fail", "area": [0, 0, 5]}, "fail.area: give one of {circle: [x, y, r]} or "
     "{bbox: [xmin, ymin, xmax, ymax]} (got [0, 0, 5])"),
    ({"action": "fail"}, "fail: give either assets or an area"),
    ({"action": "fail", "assets": ["SUB"], "asset_classes": ["pipe"]},
     "fail.asset_classes: asset_classes filters an area: give an area"),
]


@pytest.mark.parametrize("record, en", RECORDS)
def test_every_record_refusal_in_english_and_chinese(record, en):
    with pytest.raises(ActionError) as e:
        action_from_record(record, where="console")
    _check_zh(e.value, f"console: {en}")
    assert e.value.render("zh").startswith("console: ")


def test_a_refused_time_in_a_scenario_in_chinese():
    from twin.actions import Decision

    with pytest.raises(ActionError) as e:
        Decision.from_record({"time_h": -2, "action": "pin", "assets": ["PS"]},
                             where="interventions.0")
    zh = _check_zh(e.value, "interventions.0: time_h must be a finite number of hours >= 0 "
                            "(got -2)")
    assert zh == "interventions.0: time_h 须为 >= 0 的有限小时数（收到 -2）"


def test_drill_refusals_in_chinese(tiny_prep):
    from twin.drill.session import DrillError, DrillSession
    from twin.drill.steps import StepsError, run_steps

    prep = tiny_prep()
    s = DrillSession(prep, prep.spec.model_dump(mode="json", exclude={"base_dir"}))
    cases = [(lambda: s.switch("nope"), "unknown branch 'nope' (branches: main)",
              "未知的分支 'nope'（现有分支：main）"),
             (lambda: s.branch("main"), "branch name 'main' is empty or taken (branches: main)",
              "分支名 'main' 为空或已被占用（现有分支：main）"),
             (lambda: s.branch("x", undo=["hold"]), "undo: unknown action 'hold' (allowed: ", ""),
             (lambda: s.branch("x", undo=["pin"]), "undo: no pin decision was taken in branch "
              "'main'", ""),
             (lambda: s.advance(-1), "advance_h must be a finite number of hours > 0 (got -1)", ""),
             (lambda: s.advance_to("later"), "advance_to takes hours or 'end' (got 'later')", "")]
    for call, en, zh in cases:
        with pytest.raises(DrillError) as e:
            call()
        got = _check_zh(e.value, en)
        assert got == zh or not zh, got
    s.advance_to("end")
    with pytest.raises(DrillError) as e:
        s.advance(1)
    _check_zh(e.value, "branch 'main' is at the horizon (96 h): fork from an earlier time")
    # a scripted step wraps the refusal and keeps its translation (the CLI prints English)
    s2 = DrillSession(prep, {})
    with pytest.raises(StepsError) as e:
        run_steps(s2, [{"hold_crews": {"utility": "water", "count": 9, "duration_h": 1}}])
    assert str(e.value) == ("steps: steps.0: at 0 h: hold_crews.count: 9 water crews asked, "
                            "water has 1 (0 already held)")
    assert e.value.render("zh") == ("steps: steps.0: 0 小时：hold_crews.count: 要求 9 支供水"
                                    "抢修队，供水共有 1 支（已待命 0 支）")


def test_the_log_in_the_console_view_follows_the_language(tiny_prep):
    from twin.drill import view
    from twin.drill.session import DrillSession

    prep = tiny_prep()
    s = DrillSession(prep, prep.spec.model_dump(mode="json", exclude={"base_dir"}))
    s.advance(2)
    note = s.act(HoldCrews("power", 1, 10))
    assert str(note) == "1 power crew(s) held until 12 h"
    assert view.state(s)["log"][0]["note"] == "1 power crew(s) held until 12 h"
    assert view.state(s, lang="zh")["log"][0]["note"] == "1 支电力抢修队待命至 12 小时"
    # the log saved as a scenario does not carry notes: the same in any language
    assert s.scenario_doc()["interventions"][-1] == {
        "time_h": 2.0, "action": "hold_crews", "utility": "power", "count": 1,
        "duration_h": 10.0}
