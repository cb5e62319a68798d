"""grader.core.registry: the kind contract is checked when a kind registers, and a kind
from one folder, installed through the `grader.kinds` entry point, grades like a built-in."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from grader.core import registry
from grader.core.model import Question, Verdict
from tests.conftest import grader_command

BUILTIN = ("choice", "code", "equation", "model", "numeric", "plot", "symbolic", "text", "vector")


class Minimal:
    """The least a kind must have."""

    name = "minimal-test"
    option_keys: dict[str, Any] = {}
    answer_source = "answers"
    calls_reference = True
    supports_mistakes = False

    def load_options(self, raw: Any) -> None:
        return None

    def parse(self, raw: Any, question: Question) -> str:
        return str(raw)

    def parse_reference(self, raw: Any, question: Question) -> str:
        return str(raw)

    def check(self, question: Question, value: Any, expected: Any) -> Verdict:
        return Verdict("correct" if value == expected else "incorrect", float(value == expected))

    def show(self, value: Any, question: Question) -> str:
        return str(value)


def variant(**members: Any) -> Any:
    """A kind like Minimal with some members changed (None leaves one out)."""
    body = {k: v for k, v in vars(Minimal).items() if not k.startswith("__")}
    for name, value in members.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value
    return type("Variant", (), body)()


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_kind_keeps_the_contract(name: str) -> None:
    assert registry.contract_problems(registry.get(name)) == []


def test_builtin_kinds_are_the_folders_under_kinds() -> None:
    folders = sorted(p.name for p in (Path(registry.__file__).parents[1] / "kinds").iterdir()
                     if (p / "kind.py").is_file())
    assert folders == list(BUILTIN) and set(BUILTIN) <= set(registry.kind_names())


def test_a_kind_that_keeps_the_contract_registers() -> None:
    kind = Minimal()
    assert registry.register(kind) is kind and registry.get("minimal-test") is kind
    assert registry.register(kind) is kind  # the same object again is no clash


@pytest.mark.parametrize("members, needle", [
    ({"check": None, "name": "no-check"}, "lacks check"),
    ({"chek": lambda self, *a: None, "name": "typo"}, "'chek', which is no member of the contract (did you mean 'check'?)"),
    ({"helper": lambda self: 1, "name": "helper"}, "make it private (_helper)"),
    ({"answer_source": "notebook", "name": "source"}, "answer_source must be one of answers, code"),
    ({"calls_reference": "yes", "name": "flag"}, "calls_reference must be a bool"),
    ({"prove": 3, "name": "prove"}, "prove must be callable"),
    ({"sandbox_modules": ("os",), "name": "drivers"}, "sandbox_modules must name modules inside the grader package"),
    ({"public_keys": ["a"], "name": "keys"}, "public_keys must be a tuple"),
])
def test_a_kind_that_breaks_the_contract_is_refused_by_name(members: dict[str, Any], needle: str) -> None:
    with pytest.raises(registry.ContractError, match="question kind") as refused:
        registry.register(variant(**members))
    assert needle in str(refused.value)
    assert members["name"] not in registry.kind_names()


def test_a_name_is_taken_once() -> None:
    registry.register(variant(name="taken-test"))
    with pytest.raises(registry.ContractError, match="registered twice"):
        registry.register(variant(name="taken-test"))


def test_hooks_are_reached_only_by_declared_names() -> None:
    code = registry.get("code")
    assert registry.hook(code, "prove") is not None and registry.hook(registry.get("numeric"), "prove") is None
    assert registry.attribute(registry.get("text"), "graded_later", "checked") != "checked"
    with pytest.raises(KeyError, match="not an optional hook"):
        registry.hook(code, "chek")
    with pytest.raises(KeyError, match="not an optional attribute"):
        registry.attribute(code, "prove", None)


def test_the_sandbox_preloads_what_the_kinds_announce() -> None:
    registry.load_all()
    modules = registry.sandbox_modules()
    assert "grader.kinds.code.driver" in modules and all(m.startswith("grader.kinds.") for m in modules)
    sandbox_source = (Path(registry.__file__).parents[1] / "sandbox").rglob("*.py")
    assert not any("grader.kinds" in path.read_text() for path in sandbox_source)


# --- a third-party kind from one folder ---------------------------------------------------------

UPPER_KIND = '''
"""A kind in one folder: answers compared case-insensitively."""
from grader.core import registry
from grader.core.model import Invalid, Verdict


class UpperKind:
    name = "upper"
    option_keys = {}
    answer_source = "answers"
    calls_reference = True
    supports_mistakes = True

    def load_options(self, raw):
        return None

    def parse(self, raw, question):
        text = str(raw).strip()
        return text.upper() if text.isalpha() else Invalid("letters only, please", 0, text)

    def parse_reference(self, raw, question):
        return str(raw).upper()

    def check(self, question, value, expected):
        same = value == expected
        return Verdict("correct" if same else "incorrect", float(same), "" if same else "Not the word.")

    def show(self, value, question):
        return value


registry.register(UpperKind())
'''

UPPER_SPEC = """\
id: words
title: Words
questions:
  - id: greet
    kind: upper
    points: 2
    prompt: Say hello.
    answer: hello
    mistakes:
      - answer: bye
        feedback: The other way round.
"""


def install_upper_kind(root: Path) -> dict[str, str]:
    """The kind's folder plus the metadata pip would write for it, on PYTHONPATH."""
    site = root / "site"
    (site / "upper_kind").mkdir(parents=True)
    (site / "upper_kind" / "__init__.py").write_text(textwrap.dedent(UPPER_KIND))
    info = site / "upper_kind-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: upper-kind\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[grader.kinds]\nupper = upper_kind\n")
    return {**os.environ, "PYTHONPATH": str(site)}


def test_a_third_party_kind_validates_and_grades_through_the_entry_point(tmp_path: Path) -> None:
    env = install_upper_kind(tmp_path)
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "words.yaml").write_text(UPPER_SPEC)
    for student, answer in (("s1", "Hello"), ("s2", "bye"), ("s3", "h3llo")):
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "answers.yaml").write_text(f"words:\n  greet: {answer}\n")

    def grader(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*grader_command(), *args], capture_output=True, text=True, env=env, timeout=120)

    validated = grader("validate", str(specs))
    assert validated.returncode == 0, validated.stderr
    graded = grader("grade", str(specs), str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--no-reports")
    assert graded.returncode == 0, graded.stderr
    results = {s: json.loads((tmp_path / "out" / "results" / f"{s}.json").read_text())["questions"][0]
               for s in ("s1", "s2", "s3")}
    assert [results[s]["status"] for s in ("s1", "s2", "s3")] == ["correct", "incorrect", "invalid"]
    assert results["s2"]["feedback"].startswith("The other way round.")
    unknown = subprocess.run([*grader_command(), "validate", str(specs)], capture_output=True, text=True,
                             timeout=120, env={k: v for k, v in env.items() if k != "PYTHONPATH"})
    assert unknown.returncode != 0 and "kind 'upper' is not one of" in unknown.stderr
