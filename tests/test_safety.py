"""The safety detector: how lexicon words match (pure), the loader's errors for partners,
the floors it keeps on the held-out crisis set, and the safety net under unsure replies."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.knowledge.loader import load_directory, load_knowledge
from bot.knowledge.model import KnowledgeBase
from bot.matching.danger import (
    MEANING_BOUNDS,
    MEANING_HIDDEN,
    MEANING_SEEDS,
    SURE,
    WORDS_BOUNDS,
    DangerModel,
    MeaningHead,
    examples_key,
    learn_danger,
    read_examples,
    shipped_meaning,
    shipped_model,
)
from bot.matching.encoder import DIMENSIONS, MODEL
from bot.matching.engine import Evidence
from bot.matching.matcher import Candidate, Match, Outcome
from bot.matching.safety import Assessment, SafetyDetector
from bot.replies.cards import Cards
from bot.replies.messages import Catalogue

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
CRISIS_SET = ROOT / "tests" / "data" / "crisis.jsonl"

LINES = """
crisis:
  - {id: c-self, category: self_harm, priority: 1, reply: r1}
  - {id: c-child, category: child_abuse, priority: 7, reply: r2}
  - {id: c-fire, category: fire_gas, priority: 4, reply: r3}
"""
LEXICON = """
safety:
  language: en
  words:
    child: [son, daughter, kid]
  urgent: [now, help]
  calm: [course, "# years ago"]
  idioms: ["is killing me"]
  categories:
    self_harm:
      terms: [suicid*, "want to die", "=stroke", "kill ... myself"]
    child_abuse:
      terms: ["lost my {child}"]
      pairs:
        - [["{child}"], [missing, "#1-5 years old"]]
    fire_gas:
      terms: [着火, "smell* gas"]
"""


def detector_of(
    make_kb: Callable[[dict[str, str]], Path], lexicon: str, language: str = "en"
) -> SafetyDetector:
    """A detector with the test crisis lines and one lexicon, no learned model."""
    kb = load_knowledge(make_kb({"crisis.yaml": LINES, f"safety/{language}.yaml": lexicon}))
    return SafetyDetector(kb.crisis, kb.safety)


@pytest.fixture
def detector(make_kb: Callable[[dict[str, str]], Path]) -> SafetyDetector:
    return detector_of(make_kb, LEXICON)


def category(detector: SafetyDetector, text: str) -> str | None:
    line = detector.check(text)
    return line.category if line else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thinking about suicide", "self_harm"),  # stem
        ("suicidal thoughts", "self_harm"),
        ("i wnat to die", "self_harm"),  # a swap in a 4-letter word
        ("i want to kill just myself", "self_harm"),  # "..." lets words in between
        ("i lost my daughter at the mall", "child_abuse"),  # word group
        ("missing since noon, my son", "child_abuse"),  # a pair, in any order
        ("my kid is missing", "child_abuse"),
        ("厨房着火了", "fire_gas"),  # Chinese: found inside the text
        ("we smell gas", "fire_gas"),
        ("I smelled gas", "fire_gas"),
    ],
)
def test_words_as_people_write_them(detector: SafetyDetector, text: str, expected: str) -> None:
    assert category(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "this essay is killing me",  # no danger word
        "i lost my daughters passport",  # a plural or possessive is not a typo
        "is there a bus strike",  # "=stroke" forgives no typo
        "suicide prevention course for volunteers",  # calm context
        "my uncle died by suicide 10 years ago",  # the past
        "",
        "   ",
    ],
)
def test_ordinary_questions_stay_ordinary(detector: SafetyDetector, text: str) -> None:
    assert detector.check(text) is None


def test_urgency_keeps_the_alarm_despite_calm_context(detector: SafetyDetector) -> None:
    assert category(detector, "i took the course but i want to die now") == "self_harm"
    assert category(detector, "i took the course but i want to die") is None


def test_calm_context_is_read_per_sentence(detector: SafetyDetector) -> None:
    text = "Is the course free? Also I want to die."
    assert category(detector, text) == "self_harm"


def test_urgency_in_another_sentence_does_not_undo_calm_context(detector: SafetyDetector) -> None:
    # Most such "now" starts a new, ordinary request. Letting urgency anywhere in a message undo
    # calm context found 1 more of 98 crises told this way and raised 3 more false alarms in
    # 98 ordinary messages (tests/data/crisis_sentences.jsonl, benchmarks/RESULTS.md).
    text = "I lost my daughter at the mall 3 years ago. Now she is 8, can you help with school?"
    assert category(detector, text) is None
    assert category(detector, "I lost my daughter at the mall, help") == "child_abuse"


def test_the_most_urgent_danger_wins_and_evidence_is_given(detector: SafetyDetector) -> None:
    found = detector.find("my son is missing and i want to die")
    assert found is not None
    assert found.line.category == "self_harm"
    assert found.evidence == ("want to die",)


def test_number_ranges(detector: SafetyDetector) -> None:
    assert category(detector, "my son 3 years old") == "child_abuse"
    assert category(detector, "my son 30 years old") is None


def test_triggers_in_crisis_lines_still_work(
    make_kb: Callable[[dict[str, str]], Path],
) -> None:
    kb = load_knowledge(
        make_kb({"c.yaml": "crisis:\n  - {id: c, category: crime, triggers: [burglar], reply: r}"})
    )
    assert SafetyDetector(kb.crisis, kb.safety).check("a BURGLAR upstairs") is not None


# --- What a partner sees when a lexicon is wrong ------------------------------------------


@pytest.mark.parametrize(
    ("lexicon", "where", "message"),
    [
        (
            "safety:\n  language: en\n  categories:\n    self_harm:\n      terms: ['{kid} hurt']\n",
            ":4:",
            'no word group "kid"',
        ),
        (
            "safety:\n  language: en\n  categories:\n    arson:\n      terms: [fire]\n",
            ":4:",
            "arson",
        ),
        (
            "safety:\n  language: en\n  categories:\n    trafficking:\n      terms: [x y]\n",
            ":4:",
            'no crisis line has the category "trafficking"',
        ),
        (
            "safety:\n  language: en\n  categories:\n    self_harm:\n"
            "      pairs:\n        - [[a, b]]\n",
            ":6:",
            "2 or 3 lists",
        ),
        ("safety:\n  language: en\n  calm: ['...']\n", ":3:", "no letters"),
        ("safety:\n  language: en\n  idioms: ['{x} y']\n", ":3:", 'no word group "x"'),
    ],
)
def test_lexicon_errors_name_the_file_and_line(
    make_kb: Callable[[dict[str, str]], Path], lexicon: str, where: str, message: str
) -> None:
    root = make_kb({"crisis.yaml": LINES, "safety/en.yaml": lexicon})
    result = load_directory(root)
    assert not result.ok
    shown = [str(p) for p in result.errors]
    assert any("en.yaml" + where in s and message in s for s in shown), shown


def test_a_word_group_inside_chinese_characters(
    make_kb: Callable[[dict[str, str]], Path],
) -> None:
    # One line for every person and every mishap; the helper who first wrote the Chinese
    # scolding idiom had to list all 576 combinations.
    lexicon = """
safety:
  language: zh
  words:
    kin: [哥, 室友]
    mishap: [弄丢, 摔坏]
  idioms: ["{kin}要杀...我...{mishap}", "{mishap}...{kin}要杀"]
  categories:
    self_harm:
      terms: [杀了我]
"""
    detector = detector_of(make_kb, lexicon, "zh")
    assert category(detector, "我哥要杀了我，我把他的卡弄丢了") is None
    assert category(detector, "手柄摔坏了，室友要杀了我") is None
    assert category(detector, "我老公要杀了我，我把他的卡弄丢了") == "self_harm"
    assert category(detector, "我哥要杀了我") == "self_harm"  # no mishap: not the idiom


def test_idioms_that_share_a_word_are_all_set_aside(
    make_kb: Callable[[dict[str, str]], Path],
) -> None:
    # Set aside one after the other, the first idiom took "alarm" from the second, and
    # "carbon monoxide" was left to raise the alarm.
    lexicon = """
safety:
  language: en
  idioms: ["check* ... alarm", "alarm for carbon monoxide"]
  categories:
    fire_gas:
      terms: ["carbon monoxide"]
"""
    detector = detector_of(make_kb, lexicon)
    assert category(detector, "how do i check the alarm for carbon monoxide") is None
    assert category(detector, "i smell carbon monoxide") == "fire_gas"


def test_one_lexicon_per_language(make_kb: Callable[[dict[str, str]], Path]) -> None:
    root = make_kb(
        {
            "crisis.yaml": LINES,
            "safety/en.yaml": "safety: {language: en}\n",
            "safety/en2.yaml": "safety: {language: en}\n",
        }
    )
    errors = [str(p) for p in load_directory(root).errors]
    assert any("keep one file per language" in e for e in errors), errors


# --- The shipped lexicons ------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE)


def test_every_language_has_a_lexicon_and_others_await_review(shipped: KnowledgeBase) -> None:
    languages = {lexicon.language for lexicon in shipped.safety}
    assert languages == set("ar en es fa fr hi pa pt ru ta tl uk ur zh".split())
    for lexicon in shipped.safety:
        text = (KNOWLEDGE / "safety" / f"{lexicon.language}.yaml").read_text(encoding="utf-8")
        if not lexicon.reviewed and lexicon.language != "en":
            assert "NATIVE SPEAKER'S CHECK" in text, lexicon.language


def test_every_crisis_reply_names_a_sourced_phone(shipped: KnowledgeBase) -> None:
    for line in shipped.crisis:
        phones = [p.number for s in line.services for p in shipped.services[s].phones]
        assert phones, line.id
        reply = " ".join(
            str(v) for v in (line.reply.values() if isinstance(line.reply, dict) else [line.reply])
        )
        assert "911" in reply or line.category == "homeless", line.id


# Floors on the two report sets, a little below what benchmarks/crisis.py measures as shipped
# (the lexicons, and the learned model that adds alarms at SURE and takes a lexicon's alarm
# away below CONFIRM), words alone: held-out 95.9% found (en/fr 97.6%, others 94.6%, weakest
# category elder abuse 91.3%), 0.3% false alarms; blind check 93.6% (95.5%, 91.7%, sexual
# assault 85.7%), 3.9% false alarms (seventeenth session; 93.9% and 90.1% found before). The
# false-alarm bounds are ceilings (held-out 1.8% before a sentence both calm and urgent went to
# the model, 1.2% before Chinese characters counted as words, check 5.0%: each would fail). The
# issue's targets (95%, 80%, 85% per category, 2% false alarms) are not all reached on words
# alone; with the encoder's meaning model, floors in tests/test_encoder.py. "worried": of the
# crises missed, those whose answer still carries the 911/988 line; "lined": ordinary messages
# with that line under their answer, a ceiling.
FLOORS = {
    "heldout": {
        "detected": 0.94,
        "major": 0.96,
        "other": 0.92,
        "category": 0.85,
        "false": 0.011,
        "worried": 0.75,
        "lined": 0.10,
    },
    "check": {
        "detected": 0.91,
        "major": 0.94,
        "other": 0.89,
        "category": 0.80,
        "false": 0.035,
        "worried": 0.85,
        "lined": 0.08,
    },
    # Written blind in the eighteenth session, before its changes (96.7% found, 5.0% false
    # alarms with this model; English and French 93.3%).
    "blind4": {
        "detected": 0.94,
        "major": 0.91,
        "other": 0.95,
        "category": 0.85,
        "false": 0.06,
        "worried": 0.80,
        "lined": 0.08,
    },
    # Written blind in the nineteenth session by a helper who saw nothing of the bot (97.2%
    # found, English and French 100%, the others 95.8%, weakest category fire and gas 88.2%;
    # 1.1% false alarms; 9 of 178 ordinary messages with the 911/988 line). Its misses and
    # false alarms were never read.
    "blind5": {
        "detected": 0.96,
        "major": 0.98,
        "other": 0.94,
        "category": 0.85,
        "false": 0.02,
        "worried": 0.80,
        "lined": 0.08,
    },
    # Written blind in the twentieth session, before its changes, by a helper who saw nothing
    # of the bot (96.1% found, English and French 100%, the others 94.2%, weakest category
    # violence at home 88.2%, crime 87.5% with this model; 2.8% false alarms; 13 of 175
    # ordinary messages with the 911/988 line). Its misses and false alarms were never read.
    "blind6": {
        "detected": 0.95,
        "major": 0.98,
        "other": 0.93,
        "category": 0.85,
        "false": 0.035,
        "worried": 0.80,
        "lined": 0.09,
    },
}
SECOND_SET = ROOT / "tests" / "data" / "crisis_dev2.jsonl"
BLIND4_SET = ROOT / "benchmarks" / "data" / "crisis_blind4.jsonl"
BLIND5_SET = ROOT / "benchmarks" / "data" / "crisis_blind5.jsonl"
BLIND6_SET = ROOT / "benchmarks" / "data" / "crisis_blind6.jsonl"
EXAMPLES = ROOT / "knowledge" / "safety" / "examples.jsonl"


@pytest.fixture(scope="module")
def learned(shipped: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> SafetyDetector:
    model = learn_danger(EXAMPLES, tmp_path_factory.mktemp("m"))
    assert model is not None
    return SafetyDetector(shipped.crisis, shipped.safety, model)


def test_the_model_is_learned_once_whatever_the_knowledge_base(
    learned: SafetyDetector, tmp_path: Path
) -> None:
    # Keyed by the examples file alone: another cache folder (another knowledge base, a
    # reload) gets the same model from this process's memory, without a refit.
    start = time.perf_counter()
    again = learn_danger(EXAMPLES, tmp_path)
    assert again is learned.model
    assert time.perf_counter() - start < 1.0
    assert not any(tmp_path.iterdir())  # nothing was fitted or written


def test_a_clause_in_danger_is_not_drowned_by_an_ordinary_question(
    learned: SafetyDetector,
) -> None:
    # The model scores the whole message low (the health card question dilutes it), and
    # the lexicon hit still stands: its clause alone reaches SURE.
    text = "i want to kill myself, how do I get a health card"
    assert learned.model is not None
    assert learned.model.danger(text)[0] < SURE
    found = learned.check(text)
    assert found is not None and found.category == "self_harm"
    # Calm context in the same sentence is the lexicons' job.
    assert learned.check("suicide prevention training, where can I sign up") is None


@pytest.mark.parametrize(
    ("path", "split"),
    [
        (CRISIS_SET, "heldout"),
        (SECOND_SET, "check"),
        (BLIND4_SET, "blind4"),
        (BLIND5_SET, "blind5"),
        (BLIND6_SET, "blind6"),
    ],
)
def test_report_set_floors(learned: SafetyDetector, path: Path, split: str) -> None:
    floors = FLOORS[split]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    held = [r for r in rows if r["split"] == split]
    crisis = [r for r in held if r["label"] != "none"]
    ordinary = [r for r in held if r["label"] == "none"]
    seen = {id(r): learned.assess(r["text"]) for r in held}
    hit = {key: a.finding is not None for key, a in seen.items()}

    def rate(group: list[dict[str, str]]) -> float:
        return sum(hit[id(r)] for r in group) / len(group)

    def worried(group: list[dict[str, str]]) -> float:
        quiet = [r for r in group if not hit[id(r)]]
        return sum(seen[id(r)].worried for r in quiet) / len(quiet)

    assert rate(crisis) >= floors["detected"]
    assert rate([r for r in crisis if r["lang"] in ("en", "fr")]) >= floors["major"]
    assert rate([r for r in crisis if r["lang"] not in ("en", "fr")]) >= floors["other"]
    by_category = Counter(r["label"] for r in crisis)
    for label in by_category:
        group = [r for r in crisis if r["label"] == label]
        assert rate(group) >= floors["category"], label
    assert rate(ordinary) <= floors["false"]
    assert worried(crisis) >= floors["worried"]
    assert worried(ordinary) <= floors["lined"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my kid swallowed a battery", "overdose"),
        ("my 3 year old just swallowed a button battery", "overdose"),
        ("my son swallowed a magnet", "overdose"),
        ("mon fils a avalé une pile", "overdose"),
        ("my friend fell through the ice on the lake", "medical"),
        ("her waters broke and the baby is coming", "medical"),
        ("a child is in danger next door", "child_abuse"),
        ("mon enfant est en danger", "child_abuse"),
        ("where do I recycle batteries", None),
        ("what to do if my kid swallowed a battery", None),
        ("ice fishing licence for Lake Scugog", None),
        # "tires" is one letter from Portuguese "tiros" (shots): listed as exact now.
        ("snow tires mandatory?", None),
    ],
)
def test_emergencies_no_one_had_written(
    learned: SafetyDetector, text: str, expected: str | None
) -> None:
    """ "my kid swallowed a battery" got no crisis reply: "battery" was only in ordinary
    examples. A swallowed battery or magnet is urgent whenever it is told, not when asked
    ahead ("what to do if")."""
    line = learned.check(text)
    assert (line.category if line else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A partner's threat is never a scolding idiom, and is violence at home, not a threat
        # the writer makes (harm to others) nor self-harm ("me tuer").
        ("my husband will kill me if I leave", "domestic_violence"),
        ("mon mari va me tuer si je pars", "domestic_violence"),
        ("il veut me tuer, il est devant ma porte", "domestic_violence"),
        ("je vais me tuer ce soir", "self_harm"),
        # Stressors and questions people write beside a crisis are not calm context.
        ("i failed my exam and i want to die", "self_harm"),
        ("my boss keeps my passport and i cant leave the farm, what are my rights", "trafficking"),
        ("my son drank bleach, is it dangerous?", "overdose"),
        ("is it ok to leave my husband he hits me every day", "domestic_violence"),
        # "lol" is a calm word; Tagalog "lola" (grandmother) is not "lol".
        ("sinasaktan ng caregiver si lola, may pasa siya", "elder_abuse"),
        # Scolding, the past that is over, the news: no alarm.
        ("my mom will kill me if I am late again", None),
        ("ma patronne va me tuer si je suis en retard", None),
        ("my boss is gonna murder me, I forgot the keys", None),
        ("we had a kitchen fire last winter, everyone is fine now, how do I claim insurance", None),
        ("I read about a gas explosion in Oshawa, is the road open?", None),
        # French "demain" (tomorrow) was read as Portuguese "desmai*" (fainted), one letter off.
        ("j'ai un rendez-vous chez le dentiste demain matin, ou est la clinique", None),
    ],
)
def test_calm_words_and_idioms_never_hide_these_dangers(
    learned: SafetyDetector, text: str, expected: str | None
) -> None:
    line = learned.check(text)
    assert (line.category if line else None) == expected


def test_a_sentence_both_calm_and_urgent_is_left_to_the_model(learned: SafetyDetector) -> None:
    # "now" is urgent and "in 2019" calm: the lexicon hit stands only if the model agrees.
    calm = "my mother had a stroke in 2019 and she is doing fine now, can she get physio at home"
    found = learned.find_in_words(calm)
    assert found is not None and found.urgent_over_calm
    assert learned.check(calm) is None
    # The same words in danger now: the model confirms the alarm.
    now = "my father had a stroke in 2018 and now his face is drooping and he cannot speak"
    line = learned.check(now)
    assert line is not None and line.category == "medical"


def test_a_chinese_sentence_is_not_short_for_want_of_spaces(learned: SafetyDetector) -> None:
    # Counted by spaces, any Chinese message was one word, so its lexicon hit always stood.
    drill = "我们公司下个月有消防演习，着火的时候应该走哪个出口？"  # a fire drill next month
    assert learned.find_in_words(drill) is not None
    assert learned.check(drill) is None
    fire = learned.check("家里着火了")  # our home is on fire: short, the hit stands
    assert fire is not None and fire.category == "fire_gas"


@pytest.mark.parametrize(
    "reply",
    ["no", "not now", "nahi", "nahi ji", "não sei", "नहीं", "پتا نہیں", "ਨਹੀਂ", "算了", "не знаю"],
)
def test_a_one_or_two_word_reply_is_no_crisis(learned: SafetyDetector, reply: str) -> None:
    # The model alone read these negations as danger (0.78-0.94): "no" got the sexual
    # assault reply. Too short to judge, they get the 911/988 line at most.
    assert learned.find_in_words(reply) is None
    assessment = learned.assess(reply)
    assert assessment.finding is None


def test_the_model_alone_still_raises_the_alarm_from_three_words(learned: SafetyDetector) -> None:
    # No lexicon hit in either: the model's alarm stands once a message has three words.
    # (Ukrainian "ламає двері", breaks the door, is a lexicon phrase since the seventeenth
    # session: "наші", our, stands between them here.)
    for text in ("someone is breaking our door", "Хтось ламає наші двері"):
        assert learned.find_in_words(text) is None
        line = learned.check(text)
        assert line is not None and line.category == "crime"
    # Two words, found by the model alone: no alarm, but the 911/988 line.
    assert learned.assess("دیگه نمی‌کشم") == Assessment(None, worried=True)


def test_the_model_learned_its_examples_both_ways(learned: SafetyDetector) -> None:
    # The training examples themselves: the model must have learned them, both ways.
    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    crisis = [r["text"] for r in rows if r["label"] != "none"]
    ordinary = [r["text"] for r in rows if r["label"] == "none"]
    assert sum(learned.check(t) is not None for t in crisis) / len(crisis) > 0.9
    # 99.2% and 1.2% measured (the model overrules most of the lexicons' false alarms here).
    assert sum(learned.check(t) is not None for t in ordinary) / len(ordinary) < 0.03


def test_checking_stays_well_under_a_millisecond(learned: SafetyDetector) -> None:
    texts = [json.loads(line)["text"] for line in CRISIS_SET.read_text().splitlines()]
    start = time.perf_counter()
    for text in texts:
        learned.check(text)
    mean_ms = (time.perf_counter() - start) / len(texts) * 1000
    # 0.32 ms measured on a shared 2-core machine; the bound leaves room for a busy CI.
    assert mean_ms < 2.0, mean_ms


def test_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks import crisis

    assert crisis.main(["--split", "tune"]) == 0
    out = capsys.readouterr().out
    assert "old tripwire" in out and "new detector" in out and "new/old" in out


def test_a_crisis_message_is_held_briefly_for_its_sender_only() -> None:
    from bot.telegram.context import RecentCrises

    held = RecentCrises(keep_seconds=60, most=2)
    held.remember(1, "alice", "first")
    assert held.take(1, "bob") is None  # not someone else's
    held.remember(1, "alice", "first")
    assert held.take(1, "alice") == "first"
    assert held.take(1, "alice") is None  # once only
    for qid in (2, 3, 4):
        held.remember(qid, "alice", f"m{qid}")
    assert held.take(2, "alice") is None  # the oldest made room
    assert held.take(4, "alice") == "m4"
    stale = RecentCrises(keep_seconds=0)
    stale.remember(5, "alice", "x")
    time.sleep(0.01)
    assert stale.take(5, "alice") is None


def test_the_shipped_model_was_learned_from_the_shipped_examples() -> None:
    # `python benchmarks/crisis_learn.py --ship` after every change to the examples: a stale
    # file is ignored (the bot would learn at start, 30 to 90 s on two cores).
    model = DangerModel(read_examples(EXAMPLES))
    assert model.load(shipped_model(EXAMPLES), check_key=True)


def test_a_shipped_model_learned_from_other_examples_is_not_used(tmp_path: Path) -> None:
    examples = tmp_path / "examples.jsonl"
    rows = [
        {"text": "i want to die tonight", "label": "self_harm"},
        {"text": "my friend took too many pills and will not wake up", "label": "overdose"},
        {"text": "where is the library", "label": "none"},
        {"text": "how do I get a bus pass", "label": "none"},
    ]
    examples.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    shutil.copy(shipped_model(EXAMPLES), shipped_model(examples))
    model = learn_danger(examples, tmp_path / "cache")
    assert model is not None
    assert model.columns < 5000  # learned from these four lines, not read from the copy
    assert any((tmp_path / "cache" / "danger").iterdir())


@pytest.fixture(scope="module")
def words_only(shipped: KnowledgeBase) -> SafetyDetector:
    return SafetyDetector.for_knowledge(shipped)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Told without the obvious word: no "kill", "missing", "rape", "abuse", "robbed".
        ("he laughed at me again, tomorrow i break his legs", "harm_others"),
        ("i took the hammer and im driving to his house", "harm_others"),
        ("je vais lui casser la gueule a ce type", "harm_others"),
        ("my daughter is 10 and she never came home after school", "child_abuse"),
        ("the kids upstairs are on their own since monday", "child_abuse"),
        ("a man online keeps asking my 11 year old for pics", "child_abuse"),
        ("mon fils de 9 ans est jamais arrive a l ecole", "child_abuse"),
        ("at the party he held me down, i could not get away", "sexual_assault"),
        ("my uncle keeps grandma's pension and she sits in dirty clothes", "elder_abuse"),
        ("the recruiter says my debt keeps going up and i cant quit", "trafficking"),
        ("someone is trying the handle of my back door", "crime"),
        ("two guys with a bat say they break my shop if i dont pay them", "crime"),
        ("my dad cant lift his right arm and his words are coming out wrong", "medical"),
        ("baby is 2 months, so floppy and hot", "medical"),
        ("she popped half the bottle of my pills", "overdose"),
        ("he said he will finish me tonight", "domestic_violence"),
        # Ordinary questions that share their words.
        ("what happens if i dont pay my rent on time", None),
        ("how do i break into the tech industry in toronto", None),
        ("where can i buy a hammer and nails in oshawa", None),
        ("my son came home from school with a cold", None),
        ("trying to open my bank account online, it asks for a SIN", None),
        ("my grandma needs help with her pension application", None),
        ("my baby has floppy ears, is it normal", None),
        ("my son has a limp and knee pain", None),
    ],
)
def test_dangers_told_without_the_obvious_word(
    words_only: SafetyDetector, text: str, expected: str | None
) -> None:
    """The lexicons alone (the learned model is not asked): a threat told as what will happen
    to someone, a child who did not come back, a debt that grows. On the tune data these
    concepts took English and French lexicon finds from 1,588 to 1,741 with no new false
    alarm (benchmarks/RESULTS.md)."""
    found = words_only.find_in_words(text)
    assert (found.line.category if found else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我要弄死他，他骗了我所有的钱", "harm_others"),
        ("main usko maar dunga, bas bahut ho gaya", "harm_others"),
        ("te juro que lo voy a matar si vuelve", "harm_others"),
        ("убью его, когда он вернется", "harm_others"),
        ("رح اكسر راسه بس يطلع من الشغل", "harm_others"),
        ("سرشو میشکنم امشب", "harm_others"),
        ("அவனை கொன்னுடுவேன்", "harm_others"),
        ("yung utang ko sa agency lumalaki bawat buwan, hindi matatapos", "trafficking"),
        ("مالک نے پاسپورٹ رکھ لیا اور باہر نہیں جانے دیتے", "trafficking"),
        ("хтось ламає двері прямо зараз", "crime"),
        ("estou sendo seguida desde o ponto de onibus", "crime"),
        ("ਕਿਸੇ ਨੇ ਡਰਿੰਕ ਵਿੱਚ ਕੁਝ ਪਾ ਦਿੱਤਾ, ਮੈਨੂੰ ਯਾਦ ਨਹੀਂ", "sexual_assault"),
        ("دادی کو کمرے میں بند کر دیتے ہیں، کھانا نہیں دیتے", "elder_abuse"),
        # The second round: the other five kinds, told without the obvious word.
        ("я всем обуза, лучше меня не будет", "self_harm"),
        ("کاش دیگه بیدار نشم", "self_harm"),
        ("میں سب پر بوجھ بن گئی ہوں", "self_harm"),
        ("我真的不想再醒来了", "self_harm"),
        ("bas subah aankh na khule", "self_harm"),
        ("بدي نام وما اصحى", "self_harm"),
        ("у мамы горло закривається після горіхів", "medical"),
        ("se me rompió la fuente y estoy sola", "medical"),
        ("meu pai esta com a boca torta e fala enrolada", "medical"),
        ("naninikip ang dibdib ni papa", "medical"),
        ("mi esposo dice que si lo denuncio me deportan", "domestic_violence"),
        ("孩子被皮带抽得全身是伤", "child_abuse"),
        # "matar a saudade": to see again someone one missed.
        ("vou matar a saudade da minha familia no natal", None),
        # Tagalog "sarado" (closed) was one letter from an Arabizi word for stolen.
        ("sarado yung office bukas?", None),
        # A salary late this month is not forced labour.
        ("इस महीने की तनख्वाह नहीं आई, क्या करूँ", None),
    ],
)
def test_dangers_without_the_obvious_word_in_every_language(
    words_only: SafetyDetector, text: str, expected: str | None
) -> None:
    """Threats to hurt someone, sexual assault, elder abuse, trafficking and crime in
    progress had the thinnest lexicons outside English and French (tune data: 5 to 14 of
    about 50 threats found per language). Written again from those concepts; 10 of the first
    13 dangers were missed before. A second round did the same for self-harm, overdose,
    medical emergencies, violence at home and child abuse: none of its 12 was found before."""
    found = words_only.find_in_words(text)
    assert (found.line.category if found else None) == expected


EVERYDAY_CASES = [
    # A small mishap: the scolding idiom, with the mishap said.
    ("my roommate will kill me i broke his controller", None),
    ("mon coloc va me tuer, j'ai cassé sa manette", None),
    # A danger that is over, and "help" with an ordinary task.
    (
        "my ex used to hit me back home but that was long ago, im safe now and just need "
        "help finding a job",
        None,
    ),
    (
        "mon ex me frappait quand on vivait au Congo mais c'est fini depuis 6 ans, je veux "
        "juste de l'aide pour mon CV",
        None,
    ),
    # A safety device to buy, fit or test.
    ("where do i put a carbon monoxide alarm in a basement apartment", None),
    ("which smoke detector should i buy", None),
    ("ou installer un detecteur de monoxyde de carbone", None),
    # The same words in danger.
    ("my friend said he will kill me if i tell anyone", "domestic_violence"),
    ("mon frere va me tuer si je refuse le mariage", "domestic_violence"),
    ("he found me again, i am not safe now", "crime"),
    ("the co alarm is going off, is it the battery?", "fire_gas"),
    ("le détecteur de monoxyde sonne et on a tous mal à la tête", "fire_gas"),
    ("the alarm keeps beeping and we all feel dizzy", "fire_gas"),
    ("i am not safe with myself tonight", "self_harm"),
]


@pytest.mark.parametrize(("text", "expected"), EVERYDAY_CASES)
def test_everyday_words_beside_danger_words(
    words_only: SafetyDetector, text: str, expected: str | None
) -> None:
    """Four kinds of ordinary message that shared danger words: a sibling's or roommate's
    "will kill me" over a small mishap, a danger long over ("I am safe now": its "now" is not
    urgent), "help" with a CV or a job search, and a smoke or carbon monoxide alarm to buy,
    fit or test. Written from those concepts in all 14 languages; on the tune data no crisis
    was lost (benchmarks/RESULTS.md). A sounding alarm beside smoke or symptoms, however the
    alarm is named, is now danger: the device's own name had hidden it."""
    found = words_only.find_in_words(text)
    assert (found.line.category if found else None) == expected


# Written, with the words, by helpers (unreviewed): in each of the twelve other languages,
# a small mishap, a danger that is over and a safety device to buy that stay quiet, and a
# partner's threat and a sounding alarm that do not.
EVERYDAY_IN_EVERY_LANGUAGE = [
    (row["text"], row["alarm"])
    for row in map(
        json.loads,
        (ROOT / "tests" / "data" / "safety_everyday.jsonl")
        .read_text(encoding="utf-8")
        .splitlines(),
    )
]


@pytest.mark.parametrize(("text", "alarm"), EVERYDAY_IN_EVERY_LANGUAGE)
def test_everyday_words_beside_danger_words_in_every_language(
    words_only: SafetyDetector, text: str, alarm: bool
) -> None:
    """The same four kinds in the twelve other languages, with a partner's threat and a
    sounding carbon monoxide alarm that must still raise the alarm. Before, 32 of the 36
    quiet ones raised it, and 5 of the 24 dangers were missed (a partner's or in-law's threat
    hidden by the scolding idiom, a sounding alarm in Punjabi)."""
    assert (words_only.find_in_words(text) is not None) is alarm


# A carbon monoxide alarm named in English inside another language, as newcomers write it.
# Before, the English name alone raised the alarm (7 of the first 13 questions did); each
# language's file now pairs the English names with its own words for sounding and the signs.
ENGLISH_DEVICE_IN_ANOTHER_LANGUAGE = [
    ("CO alarm ko kahan lagayein, kitchen ke paas ya bedroom?", False),
    ("carbon monoxide detector ba ay kailangan sa bawat palapag?", False),
    ("carbon monoxide alarm ਕਿਹੜਾ ਖਰੀਦੀਏ ਨਵੇਂ ਘਰ ਲਈ", False),
    ("CO alarm 应该装在哪里", False),
    ("где лучше повесить CO detector, в коридоре или в спальне", False),
    ("ما هو أفضل مكان لوضع CO alarm في البيت الجديد", False),
    ("CO alarm کجا نصب کنیم بهتره", False),
    ("el CO alarm es obligatorio en un apartamento de alquiler", False),
    ("o landlord tem que colocar CO alarm no apartamento", False),
    ("CO alarm எங்கே வைக்கணும் புது வீட்டுல", False),
    ("CO alarm کہاں لگانا چاہیے نئے گھر میں", False),
    ("де купити CO detector недорого", False),
    ("est-ce que le CO alarm est obligatoire dans un logement", False),
    # "co" of co-op or co-worker is no carbon monoxide, beside any sign or sound.
    ("i'm confused about my co-op placement, who do i ask", False),
    ("the co-op office phone keeps ringing and nobody answers", False),
    ("co-op ka interview kal hai, bahut chakkar aa raha hai tension se", False),
    ("estoy buscando un co-op y me duele la cabeza de tanto buscar", False),
    ("我叫小李，我家的CO alarm要装在哪里", False),
    ("CO alarm ज़ोर से बज रहा है और बच्चों को चक्कर आ रहे हैं", True),
    ("CO detector пищит уже 10 минут, у мамы кружится голова", True),
    ("ang CO alarm ayaw tumigil, nahihilo kami lahat", True),
    ("el CO alarm está sonando y mi hijo está mareado", True),
    ("o CO alarm está apitando e todos estão com dor de cabeça", True),
    ("le CO alarm sonne et ma fille a vomi", True),
    ("CO alarm 一直在叫，孩子头晕", True),
    ("CO alarm عم يزمر والولاد عندهم صداع", True),
    ("CO alarm بوق میزنه و بچه‌ها سرگیجه دارن", True),
    ("CO alarm ਵੱਜੀ ਜਾਂਦਾ ਤੇ ਬੱਚੇ ਨੂੰ ਉਲਟੀ ਆ ਰਹੀ", True),
    ("CO alarm சத்தம் போடுது, எல்லாருக்கும் தலைவலி", True),
    ("CO alarm بج رہا ہے اور امی کو چکر آ رہے ہیں", True),
    ("CO detector пищить, у дітей болить голова", True),
    ("the co alarm is beeping and my son is dizzy", True),
    ("carbon monoxide alarm going off", True),
]


@pytest.mark.parametrize(("text", "alarm"), ENGLISH_DEVICE_IN_ANOTHER_LANGUAGE)
def test_an_english_device_name_inside_another_language(
    words_only: SafetyDetector, text: str, alarm: bool
) -> None:
    """The device named alone is no danger in any language; sounding or its signs are."""
    found = words_only.find_in_words(text)
    assert (found is not None) is alarm
    if found is not None:
        assert found.line.category == "fire_gas"


def test_polite_particles_do_not_break_a_phrase(words_only: SafetyDetector) -> None:
    # Tagalog's "po" / "pong" may sit anywhere: "gusto ko na mamatay" is the listed phrase.
    for text in ("gusto ko na po mamatay", "Gusto ko na pong mamatay, pagod na ako"):
        found = words_only.find_in_words(text)
        assert found is not None and found.line.category == "self_harm", text
    assert words_only.find_in_words("saan po ang library") is None


def test_a_sure_answer_to_a_worrying_message_carries_the_safety_line(
    learned: SafetyDetector, shipped: KnowledgeBase
) -> None:
    # Short of an alarm, a message the model finds likely enough to be danger (WORRY) still
    # gets 911/988 under its answer; an everyday question does not.
    assert learned.assess("I feel so hopeless, I need to talk to someone tonight").worried
    calm = learned.assess("where can I get a library card in Ajax")
    assert calm.finding is None and not calm.worried
    cards = Cards(shipped, Catalogue.load())
    candidate = Candidate("library-card", 90.0, Evidence("library card", (), {}))
    line = cards.safety_net("en")
    for worried in (True, False):
        match = Match(Outcome.ANSWERED, "en", (candidate,), worried=worried)
        assert match.carries_net is worried
        assert (line in cards.for_match(match)) is worried


def test_the_shipped_meaning_model_reads_this_encoder_and_these_examples() -> None:
    # Written by `python benchmarks/crisis_learn.py --ship` with the multilingual extra.
    head = MeaningHead.load(shipped_meaning(EXAMPLES), MODEL)
    assert head is not None
    assert head.hidden.shape == (MEANING_SEEDS, DIMENSIONS, MEANING_HIDDEN)
    assert head.key == examples_key(read_examples(EXAMPLES))
    assert MeaningHead.load(shipped_meaning(EXAMPLES), "another-encoder") is None


def test_the_meaning_model_counts_only_with_the_messages_vector(
    learned: SafetyDetector, shipped: KnowledgeBase, tmp_path: Path
) -> None:
    # A head that reads the first number of the vector: very sure of danger along it, very
    # sure of none against it.
    hidden = np.zeros((DIMENSIONS, 1))
    hidden[0, 0] = 1.0
    head = MeaningHead(hidden, np.zeros(1), np.array([100.0]), -50.0, MODEL, "test")
    head.save(tmp_path / "head.npz")
    head = MeaningHead.load(tmp_path / "head.npz", MODEL)
    assert head is not None
    detector = SafetyDetector(shipped.crisis, shipped.safety, learned.model, meaning=head)
    danger, calm = np.zeros(DIMENSIONS), np.zeros(DIMENSIONS)
    danger[0], calm[0] = 1.0, -1.0
    text = "where is the public library in Whitby"
    assert learned.model is not None
    words = learned.model.danger(text)[0]
    assert words < WORDS_BOUNDS.worry
    # Without a vector, the words alone decide; with one, the mean of both models does.
    assert detector.assess(text) == detector.assess(text, None)
    assert not detector.assess(text).worried
    sure_of_danger = detector.assess(text, danger)
    assert (words + 1) / 2 < MEANING_BOUNDS.sure and sure_of_danger.finding is None
    assert sure_of_danger.worried  # mean about 0.5: the 911/988 line under the answer
    assert not detector.assess(text, calm).worried


def test_the_meaning_model_is_the_mean_of_its_networks() -> None:
    # Networks learned from different random starts disagree on some messages (out of fold,
    # one alone found 85.8-89.1% of crises by seed); the model averages them.
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(60, 8))
    danger = vectors[:, 0] + 0.3 * vectors[:, 1] > 0
    head = MeaningHead.fit(vectors, danger, MODEL, "test", units=4, seeds=3)
    assert head.hidden.shape == (3, 8, 4) and head.bias.shape == (3,)
    members = [
        MeaningHead(head.hidden[i], head.hidden_bias[i], head.weights[i], head.bias[i], MODEL, "")
        for i in range(3)
    ]
    for vector in vectors[:5]:
        alone = [m.probability(vector) for m in members]
        assert head.probability(vector) == pytest.approx(sum(alone) / 3)
    assert len({round(m.probability(vectors[0]), 6) for m in members}) > 1  # not one network
    found = [head.probability(v) > 0.5 for v in vectors]
    assert sum(f == d for f, d in zip(found, danger, strict=True)) >= 55  # it learned


def test_a_message_read_as_two_kinds_of_danger_gets_both_kinds_contacts(
    learned: SafetyDetector, shipped: KnowledgeBase
) -> None:
    # The words say self-harm ("kill himself"); the learned model reads violence at home. The
    # crisis reply keeps the self-harm message and adds the violence-at-home lines after its
    # own, each service once.
    found = learned.find("my husband says he will kill himself and me if I leave him")
    assert found is not None and found.line.category == "self_harm"
    assert found.also is not None and found.also.category == "domestic_violence"
    # One kind of danger, one kind of contacts.
    alone = learned.find("my dad is not breathing")
    assert alone is not None and alone.also is None
    cards = Cards(shipped, Catalogue.load())
    match = Match(Outcome.CRISIS, "en", (), found.line, also=found.also)
    reply = cards.for_match(match)
    assert reply.startswith(cards.crisis(found.line, "en"))
    for service_id in (*found.line.services, *found.also.services):
        for phone in shipped.services[service_id].phones:
            assert phone.number in reply, service_id
    one_each = dict.fromkeys((*found.line.services, *found.also.services))
    cards_shown = [cards.service(shipped.services[s], "en") for s in one_each]
    assert reply.endswith("\n\n".join(cards_shown))
    assert len(one_each) < len(found.line.services) + len(found.also.services)  # 911 twice
