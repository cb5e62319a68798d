"""What a symbol ranges over, as a spec declares it (`symbols: {w: real, m: positive integer}`).

A domain gives the sympy assumptions of the symbol (so `sqrt(x**2)` is `x` only when x is
positive) and the values the numeric comparison samples. Real values are drawn in three
flavours, cycled by the caller: plain reals, integers and half-integers. The last two
matter: `(-1)**n` is real only at integer n, and `(a**2)**(1/2) = |a|` differs from
`a**1` only where a is negative and the exponents are whole or half numbers.

Complex values are drawn in the same three flavours: plain values anywhere in a disc
of radius 4 (every sector, so `sqrt(z**2) = z` fails where Re z < 0 and `log(exp(z)) = z`
where |Im z| > pi); special values on the axes, exactly (the negative real axis is where
log, sqrt and non-integer powers have their cut: `log(1/z) = -log(z)` fails only there);
and values close to the branch points 0, 1, -1, i, -i or far up the imaginary axis.
"""

from __future__ import annotations

import builtins
import cmath
import math
import random
from dataclasses import dataclass, field
from typing import Mapping

# Flavours of a sample; the caller cycles them so every combination of flavours occurs.
PLAIN, WHOLE, HALF = 0, 1, 2
FLAVOURS = 3

_WHOLE = (2, -1, -2, 1, 3, -3, 4, -4, 5, -5)
_HALF = (0.5, -0.5, 1.5, -1.5, 2.5, -2.5)
_AXES = (-2.0, 2j, -0.5, -1.5j, 3.0, 0.5j, -3.5, 1.75, -0.25j, -1.0, 4j, 0.75,
         -2.5 + 0.0j, 1.5 + 4.5j, -1.0 - 5.0j)
"""Complex values on the axes (exactly: a zero part is +0.0) and two with |Im| > pi."""
_BRANCH_POINTS = (0j, 1 + 0j, -1 + 0j, 1j, -1j)


@dataclass(frozen=True)
class Domain:
    name: str
    """The canonical name, e.g. `positive integer`."""
    assumptions: Mapping[str, bool] = field(default_factory=dict)
    """Keyword assumptions for sympy.Symbol."""
    sign: int = 0
    """+1 positive, -1 negative, 0 either sign."""
    zero: bool = False
    """Whether 0 is in the domain (sampled now and then)."""
    integer: bool = False
    complex: bool = False

    def sample_wide(self, rng: random.Random) -> builtins.complex | float:
        """A value further out (|v| up to 50), for answers with kinks (max, abs, sign)."""
        if self.complex:
            return complex(rng.uniform(-50, 50), rng.uniform(-50, 50))
        value = rng.uniform(4.5, 50.0) * (self.sign or rng.choice((-1, 1)))
        return float(round(value)) if self.integer else value

    def sample(self, rng: random.Random, flavour: int, count: int) -> builtins.complex | float:
        """The `count`-th value of a flavour: plain values are random, the others cycle."""
        if self.complex:
            return self._complex(rng, flavour, count)
        if self.integer:
            return float(self._integer(count))
        if flavour == WHOLE:
            value = float(_WHOLE[count % len(_WHOLE)])
        elif flavour == HALF:
            value = _HALF[count % len(_HALF)]
        else:
            # Moderate sizes: no overflow, and a kink (max, abs) at a small value is seen
            # from both sides. Analytic expressions that agree here agree everywhere.
            value = rng.uniform(0.15, 4.5) * rng.choice((-1, 1))
        if self.sign:
            value = abs(value) * self.sign
        return value

    @staticmethod
    def _complex(rng: random.Random, flavour: int, count: int) -> builtins.complex:
        if flavour == WHOLE:
            value = complex(_AXES[count % len(_AXES)])
            return complex(value.real + 0.0, value.imag + 0.0)  # no signed zero: -0.0 is +0.0
        if flavour == HALF and count % 2 == 0:
            # near a branch point, from any direction
            centre = _BRANCH_POINTS[(count // 2) % len(_BRANCH_POINTS)]
            return centre + cmath.rect(rng.uniform(0.02, 0.15), rng.uniform(-math.pi, math.pi))
        if flavour == HALF:
            # far up or down the imaginary axis, where exp, sin and log(exp) wrap around
            return complex(rng.uniform(-2.0, 2.0), rng.uniform(3.5, 7.0) * rng.choice((-1, 1)))
        return cmath.rect(4.0 * math.sqrt(rng.random()) + 0.1, rng.uniform(-math.pi, math.pi))

    def _integer(self, count: int) -> int:
        if self.sign:
            values = list(range(1, 9)) if not self.zero else list(range(0, 9))
            return values[count % len(values)] * self.sign
        values = [1, -1, 2, -2, 3, -3, 4, -4, 5, -5] + ([0] if self.zero else [])
        return values[count % len(values)]


DOMAINS: dict[str, Domain] = {
    d.name: d
    for d in (
        Domain("real", {"real": True}, zero=True),
        Domain("positive", {"positive": True}, sign=1),
        Domain("nonnegative", {"nonnegative": True}, sign=1, zero=True),
        Domain("negative", {"negative": True}, sign=-1),
        Domain("nonzero", {"real": True, "nonzero": True}),
        Domain("integer", {"integer": True}, integer=True, zero=True),
        Domain("positive integer", {"integer": True, "positive": True}, sign=1, integer=True),
        Domain("nonnegative integer", {"integer": True, "nonnegative": True}, sign=1,
               integer=True, zero=True),
        Domain("negative integer", {"integer": True, "negative": True}, sign=-1, integer=True),
        Domain("nonzero integer", {"integer": True, "nonzero": True}, integer=True),
        # complex=True and nothing real: sympy then applies no rule that holds only over
        # the reals (sqrt(z**2) stays, log(z*w) is not split), and equivalence samples C.
        Domain("complex", {"complex": True}, complex=True),
    )
}

REAL = DOMAINS["real"]

_ALIASES = {
    "natural": "positive integer", "natural number": "positive integer",
    "non-negative": "nonnegative", "non negative": "nonnegative",
    "non-negative integer": "nonnegative integer", "nonzero real": "nonzero",
    "int": "integer", "positive int": "positive integer", "reals": "real",
}


def parse_domain(text: object) -> Domain:
    """The domain named by `text` (`real`, `positive integer`, ...); ValueError if none."""
    if not isinstance(text, str):
        raise ValueError(f"a symbol's domain must be a word such as 'real', not {text!r}")
    words = " ".join(text.lower().replace("_", " ").split())
    words = _ALIASES.get(words, words)
    if words in DOMAINS:
        return DOMAINS[words]
    # `integer positive` reads as `positive integer`.
    swapped = " ".join(reversed(words.split()))
    if swapped in DOMAINS:
        return DOMAINS[swapped]
    raise ValueError(f"unknown domain {text!r}; use one of: {', '.join(DOMAINS)}")
