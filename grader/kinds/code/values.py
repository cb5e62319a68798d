"""Values for the `code` kind: input recipes, argument transforms, comparison and summaries.

Everything here is pure and trusted: it runs in the grader process on inputs the grader
made and on values decoded from the sandbox (plain numpy arrays, `TensorInfo`,
`ObjectInfo`, JSON types). No student object ever reaches this module.
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from grader.kinds.code import models as code_models
from grader.sandbox import ObjectInfo, TensorInfo, protocol
from grader.kinds.tolerance import Tolerance

#: Generators a case argument may use; the value is the recipe's argument.
GENERATORS = ("randn", "rand", "uniform", "randint", "zeros", "ones", "full", "eye", "arange",
              "linspace", "array", "value", "param", "model")
MODIFIERS = ("dtype", "scale", "shift", "torch")
#: Transforms a property may apply to an argument, or to the expected output.
TRANSFORMS = ("add", "scale", "negate", "flip", "transpose", "roll")
#: Predicates a property may state about the output of a case.
PREDICATES = ("finite", "nonnegative", "sum", "range", "shape")
MAX_ELEMENTS = 10_000_000
SHOWN_ELEMENTS = 24


class RecipeError(ValueError):
    """A bad input recipe in the spec (an authoring mistake, found at load time)."""


# ----------------------------------------------------------------------------- recipes


def check_recipe(recipe: Any) -> None:
    """Validate a recipe without drawing anything; RecipeError names what is wrong."""
    if not isinstance(recipe, Mapping):
        return  # a literal: number, string, bool, None or a (nested) list
    generators = [key for key in recipe if key in GENERATORS]
    unknown = [key for key in recipe if key not in GENERATORS and key not in MODIFIERS]
    if unknown or len(generators) != 1:
        raise RecipeError(f"an input recipe needs exactly one of {', '.join(GENERATORS)} "
                          f"(plus optional {', '.join(MODIFIERS)}); got {sorted(recipe)}")
    if "dtype" in recipe:
        _dtype(recipe["dtype"])
    for key in ("scale", "shift"):
        if key in recipe and not _is_number(recipe[key]):
            raise RecipeError(f"{key} must be a number")
    kind = generators[0]
    if kind == "model":
        if len(recipe) != 1:
            raise RecipeError("a model recipe takes no dtype, scale, shift or torch")
        try:
            code_models.recipe(recipe[kind])
        except ValueError as error:
            raise RecipeError(str(error)) from None
    elif kind in ("randn", "rand", "zeros", "ones"):
        _shape(recipe[kind])
    elif kind in ("uniform", "randint"):
        low_high_shape = recipe[kind]
        if not (isinstance(low_high_shape, list) and len(low_high_shape) == 3):
            raise RecipeError(f"{kind} takes [low, high, shape]")
        _shape(low_high_shape[2])
    elif kind == "full" and not (isinstance(recipe[kind], list) and len(recipe[kind]) == 2):
        raise RecipeError("full takes [shape, value]")
    elif kind == "param" and not isinstance(recipe[kind], str):
        raise RecipeError("param takes the name of an exercise param")


def make_input(recipe: Any, rng: np.random.Generator, params: Mapping[str, Any], torch_inputs: bool) -> Any:
    """Build one argument from its recipe. Plain lists become float arrays; scalars stay scalars."""
    if not isinstance(recipe, Mapping):
        if isinstance(recipe, list):
            return _finish(np.asarray(recipe, dtype=float), {}, torch_inputs)
        return recipe
    kind = next(key for key in recipe if key in GENERATORS)
    arg = recipe[kind]
    if kind == "value":
        return arg
    if kind == "model":  # built from its seed by the reference's caller and inside the child
        return code_models.recipe(arg)
    if kind == "param":
        if arg not in params:
            raise RecipeError(f"input recipe names param {arg!r}, which the exercise does not define")
        value = params[arg]
        return _finish(np.asarray(value, dtype=float), recipe, torch_inputs) if isinstance(value, list) else value
    return _finish(_generate(kind, arg, rng), recipe, torch_inputs)


def _generate(kind: str, arg: Any, rng: np.random.Generator) -> np.ndarray:
    if kind == "randn":
        return rng.standard_normal(_shape(arg))
    if kind == "rand":
        return rng.random(_shape(arg))
    if kind == "uniform":
        return rng.uniform(arg[0], arg[1], _shape(arg[2]))
    if kind == "randint":
        return rng.integers(arg[0], arg[1], _shape(arg[2]))
    if kind in ("zeros", "ones"):
        return (np.zeros if kind == "zeros" else np.ones)(_shape(arg))
    if kind == "full":
        return np.full(_shape(arg[0]), arg[1], dtype=float)
    if kind == "eye":
        return np.eye(int(arg))
    if kind == "arange":
        return np.arange(*(arg if isinstance(arg, list) else [arg]), dtype=float)
    if kind == "linspace":
        return np.linspace(*arg)
    return np.asarray(arg, dtype=float)  # array


def _finish(array: np.ndarray, recipe: Mapping[str, Any], torch_inputs: bool) -> Any:
    array = array * recipe.get("scale", 1) + recipe.get("shift", 0) if array.dtype.kind in "fc" else array
    as_torch = recipe.get("torch", torch_inputs)
    dtype = recipe.get("dtype", "float32" if as_torch and array.dtype.kind == "f" else None)
    if dtype is not None:
        array = array.astype(_dtype(dtype))
    if as_torch:
        import torch

        return torch.from_numpy(np.ascontiguousarray(array))
    return array


def _shape(raw: Any) -> tuple[int, ...]:
    shape = (raw,) if isinstance(raw, int) else raw
    if (not isinstance(shape, (list, tuple)) or isinstance(raw, bool)
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
        raise RecipeError(f"a shape is a whole number or a list of them, got {raw!r}")
    if math.prod(shape) > MAX_ELEMENTS:
        raise RecipeError(f"shape {list(shape)} has more than {MAX_ELEMENTS:,} elements")
    return tuple(shape)


def _dtype(name: Any) -> np.dtype:
    try:
        dtype = np.dtype(str(name))
    except TypeError:
        raise RecipeError(f"unknown dtype {name!r}") from None
    if dtype.kind not in "biufc":
        raise RecipeError(f"dtype {name!r} is not numeric")
    return dtype


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- transforms


def check_transform(ops: Any) -> None:
    if ops == "same":
        return
    if not isinstance(ops, Mapping) or not ops or any(op not in TRANSFORMS for op in ops):
        raise RecipeError(f"a transform is 'same' or a mapping of {', '.join(TRANSFORMS)}; got {ops!r}")


def transform(value: Any, ops: Any) -> Any:
    """Apply add/scale/negate/flip/transpose/roll, in that order, to an array or tensor."""
    if ops == "same":
        return value
    is_torch = type(value).__module__.startswith("torch")
    array = value.detach().cpu().numpy() if is_torch else np.asarray(value)
    if not protocol.is_numeric_dtype(array.dtype):
        raise TypeError(f"{describe_type(value)} is not numbers")
    out = array.astype(float) if array.dtype.kind in "iub" else array.copy()
    if "add" in ops:
        out = out + ops["add"]
    if "scale" in ops:
        out = out * ops["scale"]
    if ops.get("negate"):
        out = -out
    if "flip" in ops:
        out = np.flip(out, axis=ops["flip"])
    if "transpose" in ops:
        out = np.transpose(out, ops["transpose"])
    if "roll" in ops:
        shift, axis = ops["roll"]
        out = np.roll(out, shift, axis=axis)
    out = np.ascontiguousarray(out.astype(array.dtype, copy=False))
    if is_torch:
        import torch

        return torch.from_numpy(out)
    return out if isinstance(value, np.ndarray) else out.item() if out.ndim == 0 else out


def check_predicates(predicates: Any) -> None:
    if not isinstance(predicates, Mapping) or not predicates or any(p not in PREDICATES for p in predicates):
        raise RecipeError(f"output predicates are a mapping of {', '.join(PREDICATES)}; got {predicates!r}")
    if "sum" in predicates and not (_is_number(predicates["sum"]) or isinstance(predicates["sum"], Mapping)):
        raise RecipeError("sum takes a number or {value, axis}")


def predicate_failure(output: Any, predicates: Mapping[str, Any], tol: Tolerance,
                      reference: Any = None) -> str | None:
    """Why `output` breaks one of the predicates, or None when it meets them all.

    NaN and infinity break every predicate unless `reference` (the reference's output for
    the same case) has them at the same places: `NaN < 0` is False, so a NaN output would
    otherwise be "nonnegative" and "in range"."""
    array = as_array(output)
    if array is None:
        return f"the output is {describe_type(output)}, not an array of numbers"
    if predicates.get("finite") and not np.all(np.isfinite(array)):
        return "the output contains NaN or infinity"
    nonfinite = nonfinite_failure(array, reference)
    if nonfinite:
        return nonfinite
    # NaN left here is where the reference has NaN too: it says nothing either way
    real = np.real(array[~np.isnan(array)] if array.dtype.kind in "fc" else array.ravel())
    if predicates.get("nonnegative") and np.any(real < 0):
        return f"the output has negative entries (smallest {real.min():.4g})"
    if "shape" in predicates and list(array.shape) != list(predicates["shape"]):
        return f"the output has shape {tuple(array.shape)}, expected {tuple(predicates['shape'])}"
    if "range" in predicates:
        low, high = predicates["range"]
        if real.size and (real.min() < low or real.max() > high):
            return f"the output leaves [{low}, {high}] (it spans {real.min():.4g} … {real.max():.4g})"
    if "sum" in predicates:
        spec = predicates["sum"] if isinstance(predicates["sum"], Mapping) else {"value": predicates["sum"]}
        axis = spec.get("axis")
        try:
            sums = np.sum(array, axis=tuple(axis) if isinstance(axis, list) else axis)
        except (ValueError, IndexError, TypeError):  # numpy's AxisError is both of the first two
            return f"the output has shape {tuple(array.shape)}, which has no axis {axis} to sum over"
        close = np.isclose(sums, spec["value"], rtol=tol.rel or 0, atol=tol.abs or 0)
        if not np.all(close):
            worst = np.asarray(sums).flat[int(np.argmax(np.abs(np.asarray(sums) - spec["value"])))]
            where = f" over axis {axis}" if axis is not None else ""
            return f"the output sums{where} to {worst:.6g}, not {spec['value']}"
    return None


# ----------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Policy:
    """How strictly a returned value must match the reference's."""

    tolerance: Tolerance
    returns: str = "same"
    """"same" (numpy if the reference gives numpy, torch if torch), "numpy", "torch", "any"."""
    dtype: str = "kind"
    """"kind" (float vs int vs bool), "exact", or "ignore"."""


@dataclass(frozen=True)
class Difference:
    """Why a returned value does not match, with the largest difference when it is numeric."""

    message: str
    largest: float | None = None
    where: str | None = None
    """The index of the largest difference (`[2, 0]`, then ` in value 1 of the tuple`), for arrays."""


def as_array(value: Any) -> np.ndarray | None:
    """`value` as a numeric numpy array (numbers, numeric arrays, tensors' data), else None:
    a string, a datetime or a structured value is no number, whatever numpy calls it."""
    if isinstance(value, TensorInfo):
        array = value.array
    elif isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, int) and not isinstance(value, bool):
        array = np.asarray(value if _INT64_MIN <= value <= _INT64_MAX else _big_int(value))
    elif isinstance(value, (np.generic, float)) and not isinstance(value, bool):
        array = np.asarray(value)
    else:
        return None
    return array if isinstance(array, np.ndarray) and protocol.is_numeric_dtype(array.dtype) else None


_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def _big_int(value: int) -> float:
    """A whole number beyond int64 as the float nearest it (±inf beyond the floats)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _numeric(value: Any) -> np.ndarray | None:
    """as_array, and a real torch tensor's values too (the reference's outputs, unsent)."""
    if _is_tensor(value) and not isinstance(value, TensorInfo):
        return _reference_array(value)
    return as_array(value)


def empty_failure(got: Any, reference: Any, path: str = "") -> str | None:
    """Why `got` is an array with no values where `reference` has some, or None.

    Like NaN, an empty output is no evidence that a property holds: every predicate of no
    values is true and zero values scaled are zero values, so `return np.zeros(0)` passed
    "nonnegative" and "scales by 2" and earned their points. Tuples and lists are walked in
    step with the reference."""
    if isinstance(got, (tuple, list)):
        if not isinstance(reference, (tuple, list)) or len(reference) != len(got):
            return None
        for index, (item, paired) in enumerate(zip(got, reference)):
            found = empty_failure(item, paired, f"{path}[{index}]" if path else f"value {index + 1}")
            if found:
                return found
        return None
    array, want = as_array(got), _numeric(reference)
    if array is None or want is None or array.size or not want.size:
        return None
    where = f" in {path}" if path else ""
    return f"the output{where} is empty (shape {tuple(array.shape)}): it holds no values to check"


def nonfinite_failure(got: Any, reference: Any, path: str = "") -> str | None:
    """Why `got` holds NaN or ±inf where `reference` does not hold the same, or None.

    NaN and infinity pass nothing on their own: a NaN output is no evidence that a property
    holds (NaN < 0 is False, NaN scaled is NaN). They are accepted only where the reference
    has them too, at the same places (and, for infinities, with the same sign). Lists, tuples
    and dicts are walked in step with the reference."""
    if isinstance(got, (tuple, list)):
        same_shape = isinstance(reference, (tuple, list)) and len(reference) == len(got)
        for index, item in enumerate(got):
            inner = f"{path}[{index}]" if path else f"value {index + 1}"
            found = nonfinite_failure(item, reference[index] if same_shape else None, inner)
            if found:
                return found
        return None
    if isinstance(got, dict):
        for key, item in got.items():
            paired = reference.get(key) if isinstance(reference, dict) else None
            found = nonfinite_failure(item, paired, f"{path}[{key!r}]")
            if found:
                return found
        return None
    array = as_array(got)
    if array is None or array.dtype.kind not in "fc" or array.size == 0:
        return None
    bad = ~np.isfinite(array)
    if not bad.any():
        return None
    want = _numeric(reference) if reference is not None else None
    if want is not None and want.shape == array.shape and want.dtype.kind in "fc":
        with np.errstate(invalid="ignore"):
            same = (np.isnan(array) & np.isnan(want)) | (np.isinf(array) & (array == want))
        bad &= ~same
        if not bad.any():
            return None
    where = f" in {path}" if path else ""
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if array.ndim else ()
    value = array[first] if array.ndim else array[()]
    word = "NaN" if np.isnan(value) else "-inf" if np.real(value) < 0 else "inf"
    at = f", first at {_index(first)}" if array.ndim else ""
    ref_has = "" if want is None else " (the reference's output has none there)"
    return f"the output contains {word}{where}{at}{ref_has}"


def _is_tensor(value: Any) -> bool:
    return isinstance(value, TensorInfo) or type(value).__module__.startswith("torch")


def describe_type(value: Any) -> str:
    if isinstance(value, ObjectInfo):
        return value.what or f"an object of type {value.type}"
    if isinstance(value, TensorInfo):
        return f"a torch tensor ({value.dtype}, on {value.device})"
    if _is_tensor(value):
        return f"a torch tensor ({value.dtype})"
    if isinstance(value, np.ndarray):
        if not protocol.is_numeric_dtype(value.dtype):
            return protocol.numpy_words(value.dtype, array=True)
        return f"a numpy array ({value.dtype})"
    if isinstance(value, np.generic) and not protocol.is_numeric_dtype(value.dtype):
        return protocol.numpy_words(value.dtype, array=False)
    if value is None:
        return "None"
    if isinstance(value, int) and not isinstance(value, bool) and not _INT64_MIN <= value <= _INT64_MAX:
        return f"a whole number with {len(str(abs(value))) if abs(value) < 10 ** 4000 else 'thousands of'} digits"
    return f"a {type(value).__name__}"


def compare(got: Any, expected: Any, policy: Policy, path: str = "") -> Difference | None:
    """None if `got` matches `expected` under `policy`, else what differs first."""
    where = f" in {path}" if path else ""
    if isinstance(got, ObjectInfo):
        why = ", not numbers" if got.what else f" ({got.reason})"
        return Difference(f"returned {describe_type(got)}{where}{why}; expected {describe_type(expected)}")
    if isinstance(expected, (tuple, list)):
        return _compare_sequence(got, expected, policy, path)
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return Difference(f"expected a dict with keys {sorted(expected)}{where}, got {describe_type(got)}")
        for key in expected:
            diff = compare(got[key], expected[key], policy, f"{path}[{key!r}]")
            if diff:
                return diff
        return None
    if _is_tensor(expected) or isinstance(expected, np.ndarray):
        return _compare_array(got, expected, policy, path)
    if isinstance(expected, (bool, str, type(None), bytes)) or isinstance(expected, np.bool_):
        # the type first: `==` on an array (or a hostile object) is not a plain bool
        return None if type(got) is type(expected) and bool(got == expected) else Difference(
            f"expected {expected!r}{where}, got {summarize(got, 80)}")
    return _compare_scalar(got, expected, policy, path)


def _compare_sequence(got: Any, expected: Any, policy: Policy, path: str) -> Difference | None:
    name = "tuple" if isinstance(expected, tuple) else "list"
    where = f" in {path}" if path else ""
    if not isinstance(got, (tuple, list)):
        return Difference(f"expected a {name} of {len(expected)} values{where}, got {describe_type(got)}")
    if len(got) != len(expected):
        return Difference(f"expected a {name} of {len(expected)} values{where}, got {len(got)}")
    for index, (g, e) in enumerate(zip(got, expected)):
        diff = compare(g, e, policy, f"{path}[{index}]" if path else f"value {index + 1} of the {name}")
        if diff:
            return diff
    return None


def _compare_array(got: Any, expected: Any, policy: Policy, path: str) -> Difference | None:
    where = f" ({path})" if path else ""
    want_torch = {"same": _is_tensor(expected), "numpy": False, "torch": True}.get(policy.returns)
    if isinstance(got, TensorInfo) and got.device != "cpu" and got.array is None:
        return Difference(f"returned a tensor on the {got.device} device{where}, which holds no values; "
                          "create it on the CPU")
    array = as_array(got)
    if array is None:
        return Difference(f"expected {describe_type(expected)}{where}, got {describe_type(got)}")
    if want_torch is not None and _is_tensor(got) != want_torch:
        return Difference(f"expected {'a torch tensor' if want_torch else 'a numpy array'}{where}, "
                          f"got {describe_type(got)}")
    reference = _reference_array(expected)
    if array.shape != reference.shape:
        hint = " (transposed?)" if array.shape == reference.shape[::-1] and array.ndim == 2 else ""
        return Difference(f"expected shape {tuple(reference.shape)}{where}, got {tuple(array.shape)}{hint}")
    dtype_problem = _dtype_difference(got, array, expected, reference, policy.dtype)
    if dtype_problem:
        return Difference(dtype_problem + where)
    return _compare_values(array, reference, policy.tolerance, path)


def _reference_array(expected: Any) -> np.ndarray:
    if isinstance(expected, TensorInfo):  # the reference as received (see run.received)
        if expected.array is None:
            raise ValueError(f"the reference returned a tensor on {expected.device} without values")
        return expected.array
    if _is_tensor(expected):
        tensor = expected.detach().cpu()
        return (tensor.float() if str(tensor.dtype) == "torch.bfloat16" else tensor).numpy()
    return np.asarray(expected)


def _dtype_difference(got: Any, array: np.ndarray, expected: Any, reference: np.ndarray, mode: str) -> str | None:
    if mode == "ignore":
        return None
    got_name = got.dtype if isinstance(got, TensorInfo) else str(array.dtype)
    want_name = str(expected.dtype) if _is_tensor(expected) else str(reference.dtype)
    if mode == "exact" and str(got_name).removeprefix("torch.") != want_name.removeprefix("torch."):
        return f"expected dtype {want_name}, got {got_name}"
    categories = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}
    got_kind, want_kind = categories.get(array.dtype.kind, "?"), categories.get(reference.dtype.kind, "?")
    if got_kind != want_kind:
        return f"expected {want_kind} values ({want_name}), got {got_kind} values ({got_name})"
    return None


def _compare_values(array: np.ndarray, reference: np.ndarray, tol: Tolerance, path: str) -> Difference | None:
    where = f" in {path}" if path else ""
    if array.size == 0:
        return None
    if array.dtype.kind in "bOSU" or reference.dtype.kind in "b":
        wrong = array != reference
    else:
        a, b = array.astype(np.complex128 if array.dtype.kind == "c" else np.float64), reference
        nan_where = np.isnan(a) & ~np.isnan(b)
        if nan_where.any():
            return Difference(f"the result contains NaN{where}, first at {_index(np.argwhere(nan_where)[0])}")
        wrong = ~np.isclose(a, b, rtol=tol.rel or 0.0, atol=tol.abs or 0.0, equal_nan=True)
    if not wrong.any():
        return None
    diff = np.abs(array.astype(np.float64) - reference.astype(np.float64)) if array.dtype.kind not in "bc" else wrong
    diff = np.where(np.isnan(diff), np.inf, diff)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    largest = float(np.asarray(diff)[worst]) if diff.ndim else float(diff)
    count = int(wrong.sum())
    hint = _sign_hint(array, reference, tol)
    at = _index(worst) + (f" in {path}" if path else "")
    return Difference(f"{count} of {array.size} values differ{where} by more than the tolerance "
                      f"({tol.describe()}); the largest difference is {largest:.4g}, at {_index(worst)}{hint}",
                      largest, at)


def _sign_hint(array: np.ndarray, reference: np.ndarray, tol: Tolerance) -> str:
    if array.dtype.kind not in "fi" or not np.any(reference):
        return ""
    if np.allclose(-array, reference, rtol=tol.rel or 0, atol=tol.abs or 0):
        return " (every value has the wrong sign)"
    if array.ndim == 2 and array.shape[0] == array.shape[1] and np.allclose(array.T, reference, rtol=tol.rel or 0,
                                                                             atol=tol.abs or 0):
        return " (the result is transposed)"
    return ""


def _compare_scalar(got: Any, expected: Any, policy: Policy, path: str) -> Difference | None:
    where = f" in {path}" if path else ""
    array = as_array(got)
    if array is None or array.size != 1 or (isinstance(got, np.ndarray) and got.ndim > 0):
        return Difference(f"expected one number{where}, got {describe_type(got)}")
    value, want = array.item(), float(expected) if not isinstance(expected, complex) else expected
    if isinstance(value, complex) or not math.isfinite(float(value)):
        if cmath.isnan(value):
            return None if cmath.isnan(want) else Difference(f"the result is NaN{where}")
        return None if value == want else Difference(f"expected {want}{where}, got {value}")
    rel, absolute = policy.tolerance.rel or 0.0, policy.tolerance.abs or 0.0
    if abs(value - want) <= max(rel * abs(want), absolute):
        return None
    largest = abs(value - want)
    return Difference(f"expected {want:.6g}{where}, got {value:.6g}; the difference is {largest:.4g}", largest)


def _index(position: Any) -> str:
    items = [int(i) for i in position]
    return "[" + ", ".join(str(i) for i in items) + "]"


def same_array(before: Any, after: Any) -> bool:
    """True if an argument came back unchanged (NaN equals NaN; shape and dtype included)."""
    a, b = as_array(before) if not _is_tensor(before) else _reference_array(before), as_array(after)
    if a is None or b is None:
        return True
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


# ----------------------------------------------------------------------------- summaries


def summarize(value: Any, limit: int = 600) -> str:
    """A short readable form: small arrays in full, big ones as shape and statistics."""
    if isinstance(value, ObjectInfo):
        return f"<{value.type}>"
    if isinstance(value, code_models.ModelRecipe):
        return value.describe()
    if isinstance(value, TensorInfo):
        if value.array is None:
            return f"tensor(shape {value.shape}, {value.dtype}, device={value.device})"
        return "tensor" + _summarize_array(value.array, value.dtype.removeprefix("torch."))[5:]
    if _is_tensor(value):
        return "tensor" + _summarize_array(_reference_array(value), str(value.dtype).removeprefix("torch."))[5:]
    if isinstance(value, np.ndarray):
        return _summarize_array(value, str(value.dtype))
    if isinstance(value, (tuple, list)):
        inner = ", ".join(summarize(v, limit // max(1, len(value))) for v in value[:8])
        more = ", …" if len(value) > 8 else ""
        text = f"({inner}{more})" if isinstance(value, tuple) else f"[{inner}{more}]"
        return text if len(text) <= limit else text[:limit] + "…"
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= limit else text[:limit] + "…"


def _summarize_array(array: np.ndarray, dtype: str) -> str:
    head = f"array(shape {tuple(array.shape)}, {dtype})"
    if array.size <= SHOWN_ELEMENTS:
        body = np.array2string(array, precision=4, suppress_small=True, separator=", ", max_line_width=100)
        return f"{head} {body}"
    if array.dtype.kind in "fiub":
        values = array.astype(np.float64)
        finite = values[np.isfinite(values)]
        stats = (f"min {finite.min():.4g}, max {finite.max():.4g}, mean {finite.mean():.4g}"
                 if finite.size else "no finite values")
        nan = int(np.isnan(values).sum())
        return f"{head}: {stats}" + (f", {nan} NaN" if nan else "")
    return head
