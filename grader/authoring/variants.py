"""Per-student variants: params drawn from a seed of (student id, exercise id), and prompts.

A param is a literal value, or a draw recipe: a mapping with exactly one of
`randint: [lo, hi]`, `uniform: [lo, hi]`, `normal: [mean, std]`, `choice: [...]`, and
optionally `size: n` (a list of draws) and `round: digits`. The same student always
gets the same variant; the reference answer is computed for that variant.
"""

from __future__ import annotations

import functools
import hashlib
import random
from typing import Any, Mapping

DRAWS = ("randint", "uniform", "normal", "choice")
DRAW_EXTRAS = ("size", "round")
MAX_SIZE = 10_000


def is_draw(value: Any) -> bool:
    return (isinstance(value, dict) and sum(k in value for k in DRAWS) == 1
            and all(k in DRAWS or k in DRAW_EXTRAS for k in value))


def has_draws(params: Mapping[str, Any]) -> bool:
    return any(is_draw(v) for v in params.values())


def check_draw(recipe: Mapping[str, Any]) -> str | None:
    """A message if a draw recipe is malformed, else None."""
    kind = next(k for k in DRAWS if k in recipe)
    args = recipe[kind]
    if kind == "choice":
        if not isinstance(args, list) or not args:
            return "choice needs a non-empty list"
    elif not (isinstance(args, list) and len(args) == 2 and all(
            isinstance(a, (int, float)) and not isinstance(a, bool) for a in args)):
        return f"{kind} needs two numbers, such as {kind}: [1, 5]"
    elif kind == "randint" and not all(isinstance(a, int) for a in args):
        return "randint needs two whole numbers"
    elif kind != "normal" and args[0] > args[1]:
        return f"{kind}: the low end is above the high end"
    size = recipe.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_SIZE):
        return f"size must be a whole number from 1 to {MAX_SIZE}"
    digits = recipe.get("round")
    if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= 15):
        return "round must be a whole number of digits from 0 to 15"
    return None


def seed_for(student: str, exercise_id: str) -> int:
    digest = hashlib.sha256(f"{exercise_id}\0{student}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big")


def _draw_one(rng: random.Random, recipe: Mapping[str, Any]) -> Any:
    if "randint" in recipe:
        lo, hi = recipe["randint"]
        return rng.randint(lo, hi)
    if "choice" in recipe:
        return rng.choice(recipe["choice"])
    lo, hi = recipe.get("uniform") or recipe["normal"]
    value = rng.uniform(lo, hi) if "uniform" in recipe else rng.gauss(lo, hi)
    return round(value, recipe["round"]) if "round" in recipe else value


def resolve(params: Mapping[str, Any], student: str, exercise_id: str) -> dict[str, Any]:
    """The concrete params of one student's variant (literals pass through unchanged)."""
    if not has_draws(params):
        return dict(params)
    rng = random.Random(seed_for(student, exercise_id))
    resolved: dict[str, Any] = {}
    for name in sorted(params):  # sorted: the draw order must not depend on YAML key order
        value = params[name]
        if is_draw(value):
            size = value.get("size")
            resolved[name] = [_draw_one(rng, value) for _ in range(size)] if size else _draw_one(rng, value)
        else:
            resolved[name] = value
    return {name: resolved[name] for name in params}


@functools.lru_cache(maxsize=512)
def _compile(template: str) -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False).from_string(template)


def render_prompt(template: str, params: Mapping[str, Any]) -> str:
    """Render a prompt template; undefined names raise jinja2.UndefinedError."""
    if "{" not in template:
        return template
    return _compile(template).render(**params)
