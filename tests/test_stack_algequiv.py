"""STACK's own AlgEquiv cases, read by path from ../shared/corpora/stack/algequiv.yaml
(GPL data: never copied into this project). Run with `pytest --corpus`.

The runner reads both expressions as STACK does: any name is a symbol (or, before `(`, an
undefined function), `E`, `I` and `pi` are the constants, and every symbol is real
(STACK works over the reals). Every row must agree with STACK except those listed in
DISAGREEMENTS, each with the reason.
"""

from __future__ import annotations

import pytest
import yaml

from grader.core.model import Invalid
from grader.symbolic.equivalence import equivalent
from grader.symbolic.parse import ParseConfig, parse_expression
from tests.conftest import CORPORA

CORPUS = CORPORA / "algequiv.yaml"
KNOWN_FAILURES = CORPORA / "algequiv_known_failures.yaml"
CONFIG = ParseConfig(auto_symbols=True, auto_functions=True, imaginary=True)

# stack_line -> why we differ.
DISAGREEMENTS = {
    293: "log(abs(x^2-9)) and log(abs(x-3))+log(abs(x+3)) are equal for every x other than "
         "±3 (|x²-9| = |x-3|·|x+3|, also for complex x); STACK's 'not equivalent' is Maxima "
         "not combining logarithms of absolute values, not a difference in meaning",
}


def _rows(path) -> list[dict]:
    return yaml.safe_load(path.read_text()) if path.exists() else []


def verdict(row: dict) -> bool | None:
    student = parse_expression(row["student"], CONFIG)
    teacher = parse_expression(row["teacher"], CONFIG)
    assert not isinstance(student, Invalid), student.pointed()
    assert not isinstance(teacher, Invalid), teacher.pointed()
    return equivalent(student, teacher).equivalent


@pytest.mark.corpus
def test_corpus_is_present() -> None:
    if not CORPUS.exists():
        pytest.skip(f"STACK corpus not found at {CORPUS}")
    assert len(_rows(CORPUS)) == 129


@pytest.mark.corpus
@pytest.mark.parametrize("row", _rows(CORPUS), ids=lambda r: f"L{r['stack_line']}")
def test_agrees_with_stack(row: dict) -> None:
    ours = verdict(row)
    if row["stack_line"] in DISAGREEMENTS:
        assert ours is not row["equivalent"], f"listed as a disagreement but now agrees: " \
                                              f"{DISAGREEMENTS[row['stack_line']]}"
    else:
        assert ours is row["equivalent"], f"{row['student']!r} vs {row['teacher']!r}: {row.get('note')}"


@pytest.mark.corpus
@pytest.mark.parametrize("row", _rows(KNOWN_FAILURES), ids=lambda r: f"L{r['stack_line']}")
def test_gets_stacks_documented_failures_right(row: dict) -> None:
    """Rows STACK itself gets wrong; `equivalent` holds the mathematically right verdict."""
    assert verdict(row) is row["equivalent"]
