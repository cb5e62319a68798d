"""`code`: the student writes a function; the grader calls it in the sandbox and compares.

```yaml
- id: e
  kind: code
  points: 2
  function: hidden_layer              # what the student's <exercise>.py must define
  answer: {solution: hidden_layer}    # the reference, run in the grader on the same inputs
  tolerance: {rel: 1e-6, abs: 1e-9}
  returns: numpy                      # same (default) | numpy | torch | any
  dtype: kind                         # kind (default: float/int/bool must match) | exact | ignore
  mutation: forbid                    # forbid (default) | warn | allow: arguments changed in place
  inputs: numpy                       # numpy (default) | torch: what array recipes produce
  limits: {wall_s: 10, memory_mb: 2048}
  requires: [scipy]                   # modules beyond numpy the code imports (checked before grading)
  cases:                              # positional arguments, by name (in order) or as a list
    - args: {X: {randn: [4, 3]}, W1: {randn: [3, 5]}, b1: {randn: [5]}}
    - name: all units off
      args: {X: [[1, 2]], W1: [[-1], [-1]], b1: [-1]}
      hidden: true                    # not shown in feedback; not shipped in the student bundle
      weight: 2
  properties:                         # for answers that are not unique, or as extra checks
    - name: brightness_invariant
      description: adding a constant to the image leaves the gradients unchanged
      case: 0                         # start from this case's inputs (index or name)
      transform: {image: {add: 10}}   # call again with changed arguments ...
      expect: same                    # ... and expect f(x) unchanged, or {scale: 2}, {negate: true}
    - {name: rows_sum_to_one, case: 0, output: {sum: {value: 1, axis: 1}, nonnegative: true}}
    - {name: valid_kernel, case: 0, check: {solution: is_valid_kernel}}  # trusted predicate
```

Inputs come from seeded recipes (`randn: [4, 3]`, `rand`, `uniform: [lo, hi, shape]`,
`randint`, `zeros`, `ones`, `full`, `eye`, `arange`, `linspace`, `array`, `value`, `param`,
with `dtype`, `scale`, `shift`, `torch`), so every run and every re-grade sees the same
numbers. A seeded torch model is an argument too (`model: {arch: small_cnn, seed: 0}`): the
grader and the sandbox child each build it from the recipe (`grader.kinds.code.models`).
Each case and property is one check (a `CaseResult` in the result); the score is the
weighted share that passes, and the run (code, output, trace) is the result's `RunRecord`.
Without `weight:`, a compared case weighs 1 (½ when its answer is trivial: all zeros, all
ones, an argument handed back), a property ½, a `compare: false` case 0 (options.py).
`grader validate` grades decoys, standard wrong versions of the reference, as students'
code and fails the question when one earns half its points (`decoys.py`); a decoy that is
right for the question is marked `equivalent_decoys: {negated: "the sign is arbitrary"}`.
Feedback shows the first failing check with its inputs, the expected and the returned value
(summarised) and the largest difference; hidden checks say only that they failed.
A sandbox failure (timeout, memory, crash, exit, too much output, tampering) is an `error`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from grader.core import registry
from grader.core.model import CodeAnswer, Question, Reference, Verdict
from grader.core.suggest import did_you_mean
from grader.kinds.code.decoys import NAMES as DECOY_NAMES
from grader.kinds.code.options import DEFAULT_TOLERANCE, DRIVER, PROPERTY_WEIGHT, Case, CodeOptions, Property
from grader.kinds.common import TORCH, CodeAnswered, function_stub, load_limits
from grader.sandbox import LIMITS_SCHEMA, Limits
from grader.kinds.tolerance import tolerance_from_spec

# ----------------------------------------------------------------------------- options


def _choice(raw: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise registry.OptionError(f"{key} must be one of {', '.join(allowed)}, got {value!r}", key)
    return value


def _load_requires(raw: Mapping[str, Any]) -> tuple[str, ...]:
    names = raw.get("requires", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n.isidentifier() for n in names):
        raise registry.OptionError("requires must be a list of module names, such as [scipy]", "requires")
    return tuple(dict.fromkeys(names))


def _load_case(raw: Any, index: int) -> Case:
    from grader.kinds.code import values as code_values

    key = f"cases[{index}]"
    if not isinstance(raw, Mapping) or "args" not in raw:
        raise registry.OptionError("a case is a mapping with args (and optional name, hidden, weight, seed)", key)
    unknown = set(raw) - {"args", "name", "hidden", "weight", "compare", "seed"}
    if unknown:
        raise registry.OptionError(f"unknown case keys {sorted(unknown)}", key)
    args = raw["args"]
    if isinstance(args, Mapping):
        names, recipes = tuple(str(k) for k in args), tuple(args.values())
    elif isinstance(args, list):
        names, recipes = tuple(f"arg{i + 1}" for i in range(len(args))), tuple(args)
    else:
        raise registry.OptionError("args is a mapping of argument names to recipes, or a list", f"{key}.args")
    for name, recipe in zip(names, recipes):
        try:
            code_values.check_recipe(recipe)
        except code_values.RecipeError as error:
            raise registry.OptionError(str(error), f"{key}.args.{name}") from None
    weight = _weight(raw, key)
    seed = raw.get("seed", index + 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise registry.OptionError("seed must be a whole number >= 0", f"{key}.seed")
    return Case(name=str(raw.get("name", f"case {index + 1}")), args=recipes, arg_names=names,
                hidden=bool(raw.get("hidden", False)), weight=weight,
                compare=bool(raw.get("compare", True)), seed=seed)


def _weight(raw: Mapping[str, Any], key: str) -> float | None:
    """A check's `weight:` (a positive number), or None where it sets none."""
    weight = raw.get("weight")
    if weight is None:
        return None
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 1000:
        raise registry.OptionError("weight must be a positive number (up to 1000)", f"{key}.weight")
    return float(weight)


def _load_property(raw: Any, index: int, cases: tuple[Case, ...]) -> Property:
    from grader.kinds.code import values as code_values

    key = f"properties[{index}]"
    if not isinstance(raw, Mapping) or "name" not in raw:
        raise registry.OptionError("a property is a mapping with a name and one of transform, output, check", key)
    modes = [m for m in ("transform", "output", "check") if m in raw]
    unknown = set(raw) - {"name", "description", "case", "transform", "expect", "output", "check", "hidden", "weight"}
    if len(modes) != 1 or unknown:
        raise registry.OptionError("a property needs exactly one of transform, output or check"
                                   + (f" (unknown keys {sorted(unknown)})" if unknown else ""), key)
    case_ref = raw.get("case", 0)
    names = [c.name for c in cases]
    case = names.index(case_ref) if case_ref in names else case_ref
    if isinstance(case, bool) or not isinstance(case, int) or not 0 <= case < len(cases):
        raise registry.OptionError(f"case must be a case index (0..{len(cases) - 1}) or name", f"{key}.case")
    try:
        if "transform" in raw:
            if not isinstance(raw["transform"], Mapping):
                raise code_values.RecipeError("transform maps argument names to transforms")
            for arg, ops in raw["transform"].items():
                if arg not in cases[case].arg_names:
                    raise code_values.RecipeError(f"transform names {arg!r}, not an argument of case {case}")
                recipe = cases[case].args[cases[case].arg_names.index(arg)]
                if isinstance(recipe, Mapping) and "model" in recipe:
                    raise code_values.RecipeError(f"transform names {arg!r}, a model: only arrays can be changed")
                code_values.check_transform(ops)
            code_values.check_transform(raw.get("expect", "same"))
        if "output" in raw:
            code_values.check_predicates(raw["output"])
    except code_values.RecipeError as error:
        raise registry.OptionError(str(error), key) from None
    check = raw.get("check")
    if check is not None and not (isinstance(check, Mapping) and isinstance(check.get("solution"), str)):
        raise registry.OptionError("check takes {solution: function_name}", f"{key}.check")
    return Property(name=str(raw["name"]), case=case, description=str(raw.get("description", "")),
                    transform=raw.get("transform"), expect=raw.get("expect", "same"), output=raw.get("output"),
                    check=check["solution"] if check else None, hidden=bool(raw.get("hidden", False)),
                    weight=PROPERTY_WEIGHT if (weight := _weight(raw, key)) is None else weight)


def _load_equivalents(raw: Any) -> dict[str, str]:
    """`equivalent_decoys: {transposed: "the output is symmetric"}`: decoy name -> the reason."""
    if not isinstance(raw, Mapping):
        raise registry.OptionError("equivalent_decoys maps decoy names to the reason each is right here",
                                   "equivalent_decoys")
    for name, reason in raw.items():
        key = f"equivalent_decoys.{name}"
        if name not in DECOY_NAMES:
            raise registry.OptionError(f"no decoy is named {name!r}{did_you_mean(str(name), DECOY_NAMES)} "
                                       f"(the decoys: {', '.join(DECOY_NAMES)})", key)
        if not isinstance(reason, str) or not reason.strip():
            raise registry.OptionError(f"say why {name} is right for this question (a reason, as text)", key)
    return {str(name): str(reason) for name, reason in raw.items()}


# ----------------------------------------------------------------------------- the kind


class CodeKind(CodeAnswered):
    name = "code"
    sandbox_modules = (DRIVER.split(":")[0],)
    option_keys = {
        "function": {"type": "string", "description": "the function the student's module defines"},
        "cases": {"type": "array", "description": "argument sets: [{args, name, hidden, weight, compare, seed}]"},
        "properties": {"type": "array", "description": "checks for non-unique answers: transform, output, check"},
        "tolerance": {"type": "object", "description": "{rel, abs} for comparing values"},
        "returns": {"enum": ["same", "numpy", "torch", "any"]},
        "dtype": {"enum": ["kind", "exact", "ignore"]},
        "mutation": {"enum": ["forbid", "warn", "allow"]},
        "inputs": {"enum": ["numpy", "torch"]},
        "limits": LIMITS_SCHEMA,
        "requires": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                     "description": "modules beyond numpy the code imports (torch is implied by torch inputs, "
                                    "outputs or models); checked before grading"},
        "equivalent_decoys": {
            "type": "object", "description": "decoys that are truly right for this question, each with the "
            "reason: `grader validate` does not hold them against the cases",
            "propertyNames": {"enum": list(DECOY_NAMES)},
            "additionalProperties": {"type": "string", "minLength": 1}},
    }
    supports_mistakes = True
    public_keys = ("function", "returns", "dtype", "tolerance", "mutation", "inputs", "limits", "requires")

    def load_options(self, raw: Mapping[str, Any]) -> CodeOptions:
        function = raw.get("function")
        if not isinstance(function, str) or not function.isidentifier():
            raise registry.OptionError("function must name the Python function the student writes", "function")
        raw_cases = raw.get("cases")
        if raw_cases is None and "file" in raw:  # a released bundle: visible checks replace cases
            raw_cases, raw = [], {k: v for k, v in raw.items() if k != "properties"}
        elif not isinstance(raw_cases, list) or not raw_cases:
            raise registry.OptionError("cases must be a non-empty list of {args: ...}", "cases")
        cases = tuple(_load_case(c, i) for i, c in enumerate(raw_cases))
        raw_properties = raw.get("properties", [])
        if not isinstance(raw_properties, list):
            raise registry.OptionError("properties must be a list", "properties")
        properties = tuple(_load_property(p, i, cases) for i, p in enumerate(raw_properties))
        if cases and not any(c.compare for c in cases) and not properties:
            raise registry.OptionError("with every case set to compare: false, give properties", "cases")
        try:
            tol = tolerance_from_spec(raw["tolerance"]) if "tolerance" in raw else DEFAULT_TOLERANCE
        except ValueError as error:
            raise registry.OptionError(str(error), "tolerance") from None
        if tol.sigfigs is not None:
            raise registry.OptionError("code questions compare with rel/abs, not sigfigs", "tolerance")
        return CodeOptions(
            function=function, cases=cases, properties=properties, tolerance=tol,
            returns=_choice(raw, "returns", ("same", "numpy", "torch", "any"), "same"),
            dtype=_choice(raw, "dtype", ("kind", "exact", "ignore"), "kind"),
            mutation=_choice(raw, "mutation", ("forbid", "warn", "allow"), "forbid"),
            inputs=_choice(raw, "inputs", ("numpy", "torch"), "numpy"),
            limits=load_limits(raw.get("limits"), Limits()), requires=_load_requires(raw),
            equivalent_decoys=_load_equivalents(raw.get("equivalent_decoys", {})))

    def requires(self, question: Question) -> list[registry.Requirement]:
        """torch when the question hands or expects tensors or seeded models; what `requires` lists."""
        options = question.options
        if not isinstance(options, CodeOptions):
            return []
        found = [registry.Requirement(module, module, "running the code") for module in options.requires]
        recipes = [recipe for case in options.cases for recipe in case.args]
        if ("torch" in (options.inputs, options.returns) or "torch" in options.requires
                or any(isinstance(r, Mapping) and ("model" in r or r.get("torch")) for r in recipes)):
            found = [replace(TORCH, why="running the code")] + [r for r in found if r.module != TORCH.module]
        return found

    def check(self, question: Question, value: CodeAnswer, expected: Reference) -> Verdict:
        from grader.kinds.code import run as code_run

        return code_run.check(question, value, expected)

    def show(self, value: Any, question: Question) -> str:
        options: CodeOptions = question.options
        return f"{options.function}() in {getattr(value, 'exercise_id', 'the exercise')}.py"

    # --- hooks for grader.student.release -------------------------------------------------------

    def answer_format(self, question: Question) -> str:
        return f"a Python function {question.options.function}() in the exercise's .py file"

    def stub(self, question: Question) -> str:
        options: CodeOptions = question.options
        names = options.cases[0].arg_names if options.cases else ("*args",)
        return function_stub(options.function, names, question.id, question.prompt)

    def check_visible(self, question: Question, answer: CodeAnswer, cases: list[Mapping[str, Any]]) -> Verdict:
        """For `grader check`: the bundle's visible checks ({name, args, kwargs, expected})."""
        from grader.kinds.code import run as code_run

        return code_run.check_visible(question, answer, cases)

    def prove(self, question: Question, reference: Reference) -> list[str]:
        """For `grader validate`: the references run, pass their own properties, survive the
        trip through the sandbox's wire format, and every known mistake fails some case; then
        no decoy (a standard wrong version of the reference, graded as students are) earns
        half the points or more."""
        from grader.kinds.code import decoys
        from grader.kinds.code import run as code_run

        return code_run.prove(question, reference) or decoys.prove(question, reference)

    def visible_cases(self, question: Question, reference: Reference) -> list[dict[str, Any]]:
        from grader.kinds.code import run as code_run

        return code_run.visible_cases(question, reference)


KIND = registry.register(CodeKind())
