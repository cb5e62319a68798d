"""The per-answer budget: in-process work is interrupted, nested tries fall back, children get what is left."""

from __future__ import annotations

import signal
import threading
import time
from typing import Callable

import pytest

from grader.core import budget
from grader.core.budget import Budget, OverBudget
from grader.symbolic.timelimit import TimedOut, run_limited


def _spin(seconds: float = 30.0) -> None:
    """Pure Python work that would run for `seconds`, as a runaway CAS does."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(range(100))


def _swallowing_spin(seconds: float = 30.0) -> None:
    """Library code that catches everything it can (`except Exception`) while it spins."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            _spin(0.01)
        except Exception:  # noqa: BLE001 - the point: this must not swallow the budget
            pass


@pytest.mark.parametrize("work", [_spin, _swallowing_spin])
def test_in_process_work_is_stopped_at_the_end_of_the_budget(work: object) -> None:
    start = time.monotonic()
    with pytest.raises(OverBudget) as caught:
        with budget.enforced(Budget(0.2)):
            work()  # type: ignore[operator]
    assert time.monotonic() - start < 2.0
    assert "more than 0.2 s" in caught.value.message
    assert budget.current() is None


def test_memory_growth_past_the_budget_is_stopped() -> None:
    hoard = []
    with pytest.raises(OverBudget, match="MiB"):
        with budget.enforced(Budget(30, memory=64 * 2**20)):
            while True:
                hoard.append(bytearray(2**20))
                _spin(0.002)
    assert len(hoard) < 1000


def test_an_attempt_that_runs_out_falls_back_and_the_outer_budget_goes_on() -> None:
    with budget.enforced(Budget(5)) as outer:
        assert budget.attempt(0.1, _spin) is None
        assert budget.attempt(1, lambda: 42) == 42
        assert budget.current() is outer and outer.left() > 3


def test_an_attempt_does_not_outlive_the_outer_budget() -> None:
    start = time.monotonic()
    with pytest.raises(OverBudget):
        with budget.enforced(Budget(0.2)):
            budget.attempt(10, _spin)
    assert time.monotonic() - start < 2.0


def test_bounded_turns_its_own_overrun_into_a_result_and_passes_an_outer_one_on() -> None:
    assert budget.bounded(0.1, _spin, lambda exc: "too costly") == "too costly"
    with pytest.raises(OverBudget):
        with budget.enforced(Budget(0.2)):
            budget.bounded(10, _spin, lambda exc: "not mine to say")


def test_children_get_what_is_left() -> None:
    with budget.enforced(Budget(0.3)):
        start = time.monotonic()
        with pytest.raises(TimedOut):
            run_limited(lambda: _spin(), 10)
        assert time.monotonic() - start < 3  # the 0.3 s left (at 10x), not the 10 s asked for
        assert budget.child_memory(0) > budget.virtual_memory()


def test_what_an_answer_found_out_is_remembered_while_its_budget_is_open() -> None:
    calls = []

    def costly() -> int:
        calls.append(1)
        return 7
    with budget.enforced(Budget(5)):
        assert budget.remembered("key", costly) == budget.remembered("key", costly) == 7
    assert len(calls) == 1
    with budget.enforced(Budget(5)):
        budget.remembered("key", costly)
    assert len(calls) == 2


def test_the_previous_alarm_handler_is_put_back() -> None:
    def handler(signum: int, frame: object) -> None:
        return None
    previous = signal.signal(signal.SIGALRM, handler)
    try:
        with budget.enforced(Budget(1)):
            pass
        assert signal.getsignal(signal.SIGALRM) is handler
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    budget.bounded(1, lambda: None, lambda exc: None)
    assert signal.getsignal(signal.SIGALRM) == previous


def _in_a_thread(work: Callable[[], object]) -> object:
    """work() in a fresh thread (where SIGALRM cannot reach, as in a Dask worker): what it returned or raised."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the budget did not stop the thread's work"
    return outcome[0]


@pytest.mark.parametrize("work", [_spin, _swallowing_spin])
def test_work_in_another_thread_is_stopped_too(work: Callable[[], None]) -> None:
    own = Budget(0.2)

    def checked() -> float:
        start = time.monotonic()
        with budget.enforced(own):
            work()
        return time.monotonic() - start

    caught = _in_a_thread(checked)
    assert isinstance(caught, OverBudget) and caught.budget is own and "more than 0.2 s" in caught.message


def test_in_another_thread_nothing_is_raised_once_the_budget_is_closed() -> None:
    def fall_back_then_go_on() -> str:
        with budget.enforced(Budget(5.0)):
            assert budget.attempt(0.1, _spin) is None
        _spin(1.0)  # past REPEAT and several looks: a late interruption would land here
        return "done"

    assert _in_a_thread(fall_back_then_go_on) == "done"
