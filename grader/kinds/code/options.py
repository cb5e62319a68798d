"""The `code` kind's data: its options, cases, properties and checks.

Apart from kind.py (which loads them from a spec) so that run.py, which kind.py calls
lazily, imports them without importing kind.py back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from grader.kinds.tolerance import Tolerance
from grader.sandbox import Limits

DRIVER = "grader.kinds.code.driver:call_function"
DEFAULT_TOLERANCE = Tolerance(rel=1e-6, abs=1e-9)

#: The weights of checks that set none (see `grader.kinds.code.run.case_weight`): a compared
#: case weighs 1, and ½ when its answer is trivial (all zeros, all ones, an argument handed
#: back: what degenerate code returns); a property weighs ½ (a necessary condition, which
#: degenerate code meets too: zeros are non-negative and scale with anything); a case with
#: `compare: false` weighs 0 (it only feeds properties: on its own it checks that the code
#: runs and returns finite values, which wrong code does as well).
CASE_WEIGHT = 1.0
TRIVIAL_CASE_WEIGHT = 0.5
PROPERTY_WEIGHT = 0.5
UNCOMPARED_CASE_WEIGHT = 0.0


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[Any, ...]
    """Recipes, one per positional argument."""
    arg_names: tuple[str, ...]
    hidden: bool = False
    weight: float | None = None
    """As the spec sets it; None: the default for the case (see CASE_WEIGHT)."""
    compare: bool = True
    """False: the case only feeds properties (the answer is not unique)."""
    seed: int = 0


@dataclass(frozen=True)
class Property:
    name: str
    case: int
    description: str = ""
    transform: Mapping[str, Any] | None = None
    expect: Any = "same"
    output: Mapping[str, Any] | None = None
    check: str | None = None
    """Name of a trusted predicate in the solutions module: fn(output, *args) -> bool | str."""
    hidden: bool = False
    weight: float = PROPERTY_WEIGHT


@dataclass(frozen=True)
class CodeOptions:
    function: str
    cases: tuple[Case, ...]
    properties: tuple[Property, ...] = ()
    tolerance: Tolerance = DEFAULT_TOLERANCE
    returns: str = "same"
    dtype: str = "kind"
    mutation: str = "forbid"
    inputs: str = "numpy"
    limits: Limits = field(default_factory=Limits)
    requires: tuple[str, ...] = ()
    """Modules beyond numpy that the reference and the student's module import (`requires: [scipy]`)."""
    equivalent_decoys: Mapping[str, str] = field(default_factory=dict)
    """Decoys (grader.kinds.code.decoys) that are truly right for this question, each with the
    author's reason; `grader validate` does not hold them against the cases."""
