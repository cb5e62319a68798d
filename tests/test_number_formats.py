"""Numbers as people write them, per course and per question: digit grouping and the
decimal mark (`number_format`), percent, units, a trailing ellipsis, spaced exponents and
answers written like a size. Every row is text -> the value, or a refusal whose message
says what to write: never a silent other reading."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from grader.authoring.spec import load_course
from grader.core.errors import SpecError
from grader.core.model import Invalid, Question
from grader.core import registry
from grader.kinds.vector.kind import parse_vector
from grader.parsing.numbers import Number, Reading, format_from_spec, parse_number, significant_figures
from tests.conftest import run_grader

DOT = Reading()
COMMA = Reading(format_from_spec({"decimal": ","}))
COMMA_GROUPS = Reading(format_from_spec({"decimal": ".", "grouping": ["comma"]}))
DOT_GROUPS = Reading(format_from_spec({"decimal": ",", "grouping": ["dot", "space"]}))
NO_GROUPING = Reading(format_from_spec({"grouping": []}))
PERCENT = Reading(percent=True)
POINTS = Reading(units=("points",))
PERCENT_UNIT = Reading(units=("%",))

READ = [
    # grouping with spaces of every kind, in both parts of a number
    (DOT, "1 234 567.89", 1234567.89), (DOT, "1\u2009234\u2009567.89", 1234567.89),
    (DOT, "1\u202f234\u202f567.89", 1234567.89), (DOT, "1\u00a0234", 1234.0),
    (DOT, "12 345.678 901", 12345.678901), (DOT, "0.123 456 7", 0.1234567), (DOT, "-1 000", -1000.0),
    (DOT, "(1 234)/2", 617.0), (DOT, "1'234'567", 1234567.0), (DOT, "1_000_000", 1e6),
    # commas: unambiguous groups are read
    (DOT, "1,234,567", 1234567.0), (DOT, "1,234.5", 1234.5), (DOT, "-12,345,678.25", -12345678.25),
    (COMMA_GROUPS, "1,234", 1234.0), (COMMA_GROUPS, "2,083", 2083.0),
    # the decimal comma
    (COMMA, "2,5", 2.5), (COMMA, "1,234", 1.234), (COMMA, "1 234,5", 1234.5), (COMMA, "1.234.567", 1234567.0),
    (COMMA, "1.234,5", 1234.5), (COMMA, "12 345,678 9", 12345.6789), (COMMA, "J = 2,083...", 2.083),
    (COMMA, "-0,5", -0.5), (COMMA, "13/3", 13 / 3), (DOT_GROUPS, "1.234", 1234.0),
    # exponents written with spaces, and powers of ten
    (DOT, "1.23 e 2", 123.0), (DOT, "1.23 E -2", 0.0123), (DOT, "1.23e 2", 123.0), (DOT, "1.23 e+2", 123.0),
    (DOT, "1.41×10⁻³", 0.00141), (DOT, "4.33·10²", 433.0), (DOT, "1.5 x 10^3", 1500.0), (DOT, "2×10^3", 2000.0),
    (COMMA, "1,23 e 2", 123.0),
    # a trailing ellipsis: the digits given are the answer
    (DOT, "2.083...", 2.083), (DOT, "J = 2.083...", 2.083), (DOT, "2.083…", 2.083), (DOT, "2.083 …", 2.083),
    (DOT, "J(0, 0) = 25/12 ≈ 2.083...", 2.083), (DOT, "0.333...", 0.333),
    # percent where allowed
    (PERCENT, "2%", 0.02), (PERCENT, "2.5 %", 0.025), (PERCENT, "-12%", -0.12), (PERCENT, "0.3", 0.3),
    (PERCENT, "5‰", 0.005), (PERCENT, "acc = 95%", 0.95), (PERCENT_UNIT, "95%", 95.0), (PERCENT_UNIT, "95", 95.0),
    # units the question declares
    (POINTS, "3 points", 3.0), (POINTS, "3 point", 3.0), (POINTS, "1 Point", 1.0), (POINTS, "3points", 3.0),
    (POINTS, "3", 3.0), (POINTS, "d = 3 points", 3.0), (Reading(units=("data points",)), "3 data points", 3.0),
    (Reading(units=("pixels",)), "28 pixel", 28.0), (Reading(units=("px",)), "28px", 28.0),
    (Reading(units=("entries",)), "1 entry", 1.0), (Reading(units=("boxes",)), "1 box", 1.0),
    # products that are arithmetic, not a size
    (DOT, "6*7", 42.0), (DOT, "2 * 3.5", 7.0), (DOT, "3*3*64 + 64", 640.0),
]


@pytest.mark.parametrize("reading, text, value", READ)
def test_reads(reading: Reading, text: str, value: float) -> None:
    parsed = parse_number(text, reading)
    assert isinstance(parsed, Number), parsed
    assert parsed.value == pytest.approx(value, rel=1e-12)


REFUSE = [
    # ambiguous or malformed grouping: both readings, or what to write
    (DOT, "1,234", "could mean 1234 or 1.234"), (DOT, "2,083", "use a dot as the decimal separator"),
    (DOT, "12,345", "ambiguous"), (DOT, "1,5", "write 1.5"), (DOT, "0,25", "write 0.25"),
    (DOT, "1,2345", "comma is not the decimal mark"), (DOT, "1,23,456", "grouped in threes"),
    (DOT, "12,34,567", "grouped in threes"), (DOT, "1 23", "come in threes"), (DOT, "2 3", "come in threes"),
    (DOT, "3 1/2", "come in threes"), (DOT, "1 234,567", "mixes grouping characters"),
    (DOT, "1.234.567", "dot is the decimal mark here: write 1234567"), (DOT, "1.2.3", "more than one decimal mark"),
    (DOT, "1.234,5", "written with a decimal comma"), (DOT, "0.12 345", "grouped in threes"),
    (DOT, "3, 4", "one number is expected"), (COMMA, "2.5", "write 2,5"), (COMMA, "1.234", "could mean 1234 or"),
    (COMMA, ".5", "decimal mark here is a comma"), (COMMA, "2,", "decimal mark here is a comma"),
    (COMMA, "1,2,3", "more than one decimal mark"), (COMMA_GROUPS, "1 234", "not grouped with spaces here"),
    (NO_GROUPING, "1'234", "apostrophes do not group digits here"), (NO_GROUPING, "1 000", "not grouped with spaces"),
    (NO_GROUPING, "1,000", "write 1.000 or 1000"),
    # percent where it is not allowed, and percent alone
    (DOT, "2%", "for 2% write 0.02"), (DOT, "2 %", "not a percentage"), (PERCENT, "%", "a number before %"),
    (PERCENT, "2%%", "unexpected"), (POINTS, "2%", "not a percentage"),
    # units: undeclared, or another one than declared
    (DOT, "3 points", "without a unit ('points')"), (POINTS, "3 pixels", "unit 'pixels' is not one this question "
                                                                        "takes: use points"),
    (POINTS, "3 pointz", "use points"), (DOT, "28 px", "without a unit"),
    # a size where one number is asked: a hint with both readings
    (DOT, "15×15", "give one side (15) or the product written out (225)"), (DOT, "15x15", "one side (15)"),
    (DOT, "15 X 15", "one side (15)"), (DOT, "15 * 15", "one side (15)"), (DOT, "15·15", "one side (15)"),
    (DOT, "28×28×3", "the product is 2352"), (DOT, "3*3*64", "looks like a size (3 by 3 by 64)"),
    (DOT, "2×3", "the product is 6"), (DOT, "s = 15×15", "one side"), (POINTS, "15x15 points", "one side"),
    # the old refusals keep their words
    (DOT, "2x", "unexpected 'x'"), (DOT, "2e", "unexpected 'e'"), (DOT, "2 e - 3", "unexpected"),
    (DOT, "...", "unexpected"), (DOT, "2....", "unexpected"),
]


@pytest.mark.parametrize("reading, text, message", REFUSE)
def test_refuses_with_a_message(reading: Reading, text: str, message: str) -> None:
    parsed = parse_number(text, reading)
    assert isinstance(parsed, Invalid), parsed
    assert message in parsed.message


def test_a_refusal_points_at_the_number() -> None:
    parsed = parse_number("J = 1 + 1,234", DOT)
    assert isinstance(parsed, Invalid)
    assert parsed.pointed().splitlines()[-1] == "      ^"


@pytest.mark.parametrize("reading, text, figures", [
    (DOT, "1 234.5", (5, 5)), (DOT, "2.083...", (4, 4)), (PERCENT, "2.50%", (3, 3)), (POINTS, "3.0 points", (2, 2)),
    (COMMA, "0,0120", (3, 3)), (DOT, "1.23 e 2", (3, 3)), (DOT, "1,234.0", (5, 5)),
])
def test_significant_figures_are_counted_on_the_number_read(reading: Reading, text: str,
                                                            figures: tuple[int, int]) -> None:
    assert significant_figures(text, reading) == figures


@pytest.mark.parametrize("raw, message", [
    ("comma", "must be a mapping"), ({"decimal": ";"}, 'decimal must be "." or ","'),
    ({"decimal": ",", "grouping": ["comma"]}, "is the decimal mark"), ({"grouping": "space"}, "must be a list"),
    ({"grouping": ["spaces"]}, "did you mean 'space'"), ({"decimals": "."}, "did you mean 'decimal'"),
])
def test_format_from_spec_refuses(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_from_spec(raw)


# --- vectors: commas separate entries, they never group -----------------------------------

@pytest.mark.parametrize("fmt, text, values", [
    ({}, "[4.33, 2]", (4.33, 2.0)), ({}, "[1\u2009234\u2009567, 2]", (1234567.0, 2.0)),
    ({}, "[2.083..., 1]", (2.083, 1.0)), ({}, "28x28x1", (28.0, 28.0, 1.0)), ({}, "[1.23 e 2, 1]", (123.0, 1.0)),
    ({"decimal": ","}, "[4,33; 2]", (4.33, 2.0)), ({"decimal": ","}, "[[1,5; 2]; [3; 4]]", (1.5, 2.0, 3.0, 4.0)),
    ({"decimal": ","}, "4,33 2", (4.33, 2.0)), ({"decimal": ","}, "[1\u00a0234,5; 2]", (1234.5, 2.0)),
])
def test_vectors_read(fmt: dict[str, str], text: str, values: tuple[float, ...]) -> None:
    parsed = parse_vector(text, format_from_spec(fmt))
    assert not isinstance(parsed, Invalid), parsed
    assert parsed.values == pytest.approx(values)


@pytest.mark.parametrize("fmt, text, message", [
    ({}, "[1\u200923, 2]", "come in threes"), ({}, "[2%, 1]", "not a percentage"),
    ({"decimal": ","}, "[4,33, 2]", "separate the entries with ;"), ({"decimal": ","}, "[4.33; 2]", "write 4,33"),
])
def test_vectors_refuse(fmt: dict[str, str], text: str, message: str) -> None:
    parsed = parse_vector(text, format_from_spec(fmt))
    assert isinstance(parsed, Invalid) and message in parsed.message


def _vector_question(options: dict[str, object]) -> Question:
    kind = registry.get("vector")
    return Question("v", "vector", 1, "", None, kind.load_options(options))


def test_a_vector_with_comma_groups_has_the_wrong_shape_and_says_why() -> None:
    kind = registry.get("vector")
    question = _vector_question({})
    value = kind.parse("[1,234, 5]", question)
    verdict = kind.check(question, value, kind.parse_reference([1234, 5], question))
    assert verdict.status == "incorrect" and "never group digits" in verdict.feedback


def test_a_decimal_comma_vector_shows_as_it_is_written() -> None:
    kind = registry.get("vector")
    question = _vector_question({"number_format": {"decimal": ","}})
    shown = kind.show(kind.parse_reference([4.33, 2], question), question)
    assert shown == "[4,33; 2]"
    assert kind.parse(shown, question).values == pytest.approx((4.33, 2.0))


def test_numeric_shows_and_reads_back_its_decimal_comma() -> None:
    kind = registry.get("numeric")
    question = Question("n", "numeric", 1, "", None, kind.load_options({"number_format": {"decimal": ","}}))
    assert kind.show(2.0833, question) == "2,083"
    assert kind.parse("2,083", question).value == pytest.approx(2.083)
    assert "2,5" in kind.answer_format(question)


# --- spec keys: validated where they are written -------------------------------------------

SPEC = """\
id: demo
title: Demo
{top}questions:
  - id: q1
    kind: numeric
    answer: 3
{extra}  - id: q2
    kind: vector
    answer: [1.5, 2]
"""


def _spec(tmp_path: Path, top: str = "", extra: str = "") -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(SPEC.format(top=textwrap.dedent(top), extra=textwrap.indent(textwrap.dedent(extra), "    ")))
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_course([path])
    return [str(p) for p in caught.value.problems]


def test_good_keys_load_and_the_exercise_format_reaches_every_question(tmp_path: Path) -> None:
    path = _spec(tmp_path, top='number_format: {decimal: ",", grouping: [space, dot]}\n',
                 extra="percent: true\nunits: [points]\n")
    questions = load_course([path]).exercises[0].questions
    assert questions[0].options.reading.format.decimal == ","
    assert questions[0].options.reading.percent and questions[0].options.reading.units == ("points",)
    assert questions[1].options.number_format.grouping == (" ", ".")


def test_a_question_format_overrides_the_exercise_one(tmp_path: Path) -> None:
    path = _spec(tmp_path, top='number_format: {decimal: ","}\n', extra='number_format: {decimal: "."}\n')
    questions = load_course([path]).exercises[0].questions
    assert questions[0].options.reading.format.decimal == "." and questions[1].options.number_format.decimal == ","


@pytest.mark.parametrize("top, extra, expected", [
    ("number_format: {decimal: ';'}\n", "", ':3: (number_format.decimal) number_format decimal must be "." or ","'),
    ("number_format: {grouping: [spaces]}\n", "", ":3: (number_format.grouping[0]) number_format grouping 'spaces' "
                                                 "is not one of space, comma, dot, apostrophe, underscore "
                                                 "(did you mean 'space'?)"),
    ("number_format: {decimal: ',', grouping: [comma]}\n", "", "(number_format.grouping[0])"),
    ("numbr_format: {decimal: ','}\n", "", ":3: (numbr_format) unknown key 'numbr_format' (did you mean "
                                          "'number_format'?)"),
    ("", "percent: yes please\n", ":7: (questions[0].percent) percent must be true or false"),
    ("", "units: points\nunitz: [x]\n", "(questions[0].unitz) unknown key 'unitz' (did you mean 'units'?)"),
    ("", "units: [3]\n", "(questions[0].units) unit 3 must be a word"),
    ("", "units: [e]\n", "cannot be told from a number"),
    ("", "units: []\n", "units must be a list of words"),
    ("", "percent: true\nunits: ['%']\n", "(questions[0].percent) percent: true reads 2% as 0.02"),
    ("", "number_format: {decimal: ',', grouping: space}\n", "(questions[0].number_format.grouping) number_format "
                                                             "grouping must be a list"),
])
def test_malformed_keys_are_reported_at_their_line(tmp_path: Path, top: str, extra: str, expected: str) -> None:
    found = _problems(_spec(tmp_path, top, extra))
    assert any(expected in p for p in found), found
    assert all(str(tmp_path / "demo.yaml") in p for p in found)


def test_a_bad_exercise_format_is_reported_once(tmp_path: Path) -> None:
    found = _problems(_spec(tmp_path, top="number_format: {decimal: ';'}\n"))
    assert len(found) == 1, found


def test_the_schema_has_the_new_keys() -> None:
    from grader.authoring.schema import spec_schema

    schema = spec_schema()
    assert schema["properties"]["number_format"]["properties"]["decimal"]["enum"] == [".", ","]
    numeric = next(q for q in schema["properties"]["questions"]["items"]["oneOf"]
                   if q["properties"]["kind"] == {"const": "numeric"})
    assert {"number_format", "percent", "units"} <= set(numeric["properties"])


# --- end to end: `grader grade` on a tiny course ------------------------------------------

COURSE = """\
id: nf
title: Numbers people write
number_format: {decimal: ",", grouping: [space, dot]}
questions:
  - id: share
    kind: numeric
    answer: 0.25
    percent: true
  - id: vc
    kind: numeric
    answer: 3
    units: [points]
  - id: big
    kind: numeric
    answer: 1234567.5
    tolerance: {rel: 1.0e-9}
  - id: j
    kind: numeric
    answer: 2.0833
  - id: side
    kind: numeric
    answer: 15
  - id: plain
    kind: numeric
    answer: 0.5
  - id: w
    kind: vector
    answer: [4.33, 2]
"""

ANSWERS = """\
nf:
  share: 25 %
  vc: 3 points
  big: 1.234.567,5
  j: J = 2,083...
  side: 15×15
  plain: 50%
  w: "[4,33; 2]"
"""


def test_grade_reads_the_course_format_percent_and_units(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "nf.yaml").write_text(COURSE)
    student = tmp_path / "subs" / "s1"
    student.mkdir(parents=True)
    (student / "answers.yaml").write_text(ANSWERS, encoding="utf-8")
    validated = run_grader("validate", str(tmp_path / "specs"))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    graded = run_grader("grade", str(tmp_path / "specs"), str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                        "--no-reports")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    result = json.loads((tmp_path / "out" / "results" / "s1.json").read_text())
    status = {q["id"]: (q["status"], q["feedback"]) for q in result["questions"]}
    assert {k: v[0] for k, v in status.items()} == {
        "nf.share": "correct", "nf.vc": "correct", "nf.big": "correct", "nf.j": "correct",
        "nf.side": "invalid", "nf.plain": "invalid", "nf.w": "correct"}
    assert "give one side (15)" in status["nf.side"][1]
    assert "for 2% write 0,02" in status["nf.plain"][1]
    expected = {q["id"]: q["expected"] for q in result["questions"]}
    assert expected["nf.w"] == "[4,33; 2]" and expected["nf.share"] == "0,25"


def test_the_student_bundle_reads_as_grading_does(tmp_path: Path) -> None:
    """The exercise-level number_format travels in the bundle: `grader check` on a released
    bundle reads the answers as grading does."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "nf.yaml").write_text(COURSE)
    student = tmp_path / "s1"
    student.mkdir()
    (student / "answers.yaml").write_text(ANSWERS, encoding="utf-8")
    released = run_grader("release", str(tmp_path / "specs"), "--to", str(tmp_path / "bundle"))
    assert released.returncode == 0, released.stdout + released.stderr
    checked = run_grader("check", str(tmp_path / "bundle"), str(student))
    output = checked.stdout + checked.stderr
    rows = {line.split()[0]: line.split()[1] for line in output.splitlines() if line.startswith("nf.")}
    assert rows == {"nf.share": "ok", "nf.vc": "ok", "nf.big": "ok", "nf.j": "ok", "nf.side": "invalid",
                    "nf.plain": "invalid", "nf.w": "ok"}, output
    assert "give one side (15)" in output and "for 2% write 0,02" in output, output
