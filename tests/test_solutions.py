"""Calling reference solutions (grader.authoring.solutions): what an instructor is told
when a reference's arguments do not fit how the grader calls it."""

from __future__ import annotations

from typing import Any

import pytest

from grader.authoring import solutions


def by_params(params: dict[str, Any]) -> Any:  # the classic slip: one argument for all the params
    return params["x"]


def by_name(x: Any, y: Any = 2) -> Any:
    return x + y


def positional_only(x: Any, /) -> Any:
    return x


def every_param(**params: Any) -> Any:
    return sorted(params)


def test_params_are_passed_by_keyword_to_the_names_the_function_asks_for() -> None:
    assert solutions.call(by_name, {"x": 1, "z": 5}) == 3
    assert solutions.call(every_param, {"x": 1, "z": 5}) == ["x", "z"]


def test_an_argument_no_param_fills_is_explained_not_a_bare_type_error() -> None:
    with pytest.raises(solutions.SolutionError) as caught:
        solutions.call(by_params, {"x": [1, 2], "y": [3, 4]})
    message = str(caught.value)
    assert "passes the exercise's params by keyword, and they are x, y" in message
    assert "by_params() asks for params, so nothing is passed for params" in message
    assert "def by_params(x, y)" in message
    assert "missing 1 required positional argument" not in message


def test_no_params_at_all_is_said() -> None:
    with pytest.raises(solutions.SolutionError, match=r"they are none \(the exercise declares no params\)"):
        solutions.call(by_name, {})


def test_positional_only_arguments_are_named_as_such() -> None:
    with pytest.raises(solutions.SolutionError, match="x is positional-only and cannot be passed by keyword"):
        solutions.call(positional_only, {"x": 1})


def test_a_reference_that_fails_inside_still_says_how() -> None:
    with pytest.raises(solutions.SolutionError, match=r"reference by_name\(\) failed: TypeError"):
        solutions.call(by_name, {"x": "a"})


def test_code_references_are_told_the_case_args_go_by_position() -> None:
    solutions.check_positional(by_name, 2, "a code question's case args")
    with pytest.raises(solutions.SolutionError) as caught:
        solutions.check_positional(by_params, 3, "a code question's case args")
    assert str(caught.value) == ("reference by_params() cannot be called: the grader passes a code question's "
                                 "case args by position, 3 of them; by_params() takes these by position: params")
