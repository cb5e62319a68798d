"""STACK's own NumRelative / NumAbsolute / NumSigFigs cases, read by path from
../shared/corpora/stack/numeric.yaml (GPL data: never copied into this project).

Every row must agree with STACK except the ones listed in DISAGREEMENTS, each with the
reason. Run with `pytest --corpus`.
"""

from __future__ import annotations

import pytest
import yaml

from grader.core.model import Invalid, Question
from grader.parsing.numbers import parse_number
from grader.core.registry import get
from grader.kinds.tolerance import Tolerance
from grader.kinds.numeric.kind import NumericOptions
from tests.conftest import CORPORA

CORPUS = CORPORA / "numeric.yaml"

# stack_line -> why we differ. Both rows sit exactly half a unit in the last place from
# the rounded teacher answer; STACK accepts them, yet rejects 0.14295 (also
# exactly half a unit from 0.1429) and 9.5 vs 10 at 2 figures. No single exact rule
# reproduces all four, so we apply one consistently: strictly less than half a unit.
DISAGREEMENTS = {
    2712: "0.14285 vs 1/7 at [4,-1]: exactly half a unit from 0.1429; we reject the tie",
    2723: "0.145 vs 1/7 at [2,-1]: exactly half a unit from 0.14; we reject the tie",
}


def _rows() -> list[dict]:
    if not CORPUS.exists():
        return []
    return yaml.safe_load(CORPUS.read_text())


def _verdict(row: dict) -> bool | None:
    teacher = parse_number(row["teacher"])
    if isinstance(teacher, Invalid):  # complex numbers: we grade real numbers only
        return False
    option = row["option"]
    if row["test"] == "NumRelative":
        tolerance = Tolerance(rel=option)
    elif row["test"] == "NumAbsolute":
        tolerance = Tolerance(abs=option)
    else:
        figures, accuracy = option if isinstance(option, list) else (option, None)
        tolerance = Tolerance(sigfigs=figures, accuracy=accuracy)
    kind = get("numeric")
    question = Question("q", "numeric", 1, "", None, NumericOptions(tolerance))
    value = kind.parse(str(row["student"]), question)
    if isinstance(value, Invalid):
        return False
    return kind.check(question, value, teacher.value).status == "correct"


@pytest.mark.corpus
def test_corpus_is_present() -> None:
    if not CORPUS.exists():
        pytest.skip(f"STACK corpus not found at {CORPUS}")
    assert len(_rows()) == 167


@pytest.mark.corpus
@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r['test']}-L{r['stack_line']}")
def test_agrees_with_stack(row: dict) -> None:
    ours = _verdict(row)
    if row["stack_line"] in DISAGREEMENTS:
        assert ours != row["pass"], f"listed as a disagreement but now agrees: {DISAGREEMENTS[row['stack_line']]}"
    else:
        assert ours == row["pass"], f"{row['student']!r} vs {row['teacher']!r} ({row['option']}): {row.get('note')}"
