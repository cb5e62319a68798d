"""Symbolic answers: safe parsing of formulas, equivalence, form tests and feedback.

    parse        student text -> sympy expression, through a tokenizer and parser of our own
                 (never eval, sympify or parse_expr); bounded in length, depth and sizes
    domain       what a symbol ranges over (real, positive, integer, ...) and how to sample it
    evaluate     a numeric evaluator over sympy trees (floats first, mpmath to decide)
    equivalence  random-point comparison over the declared domains; the CAS only when
                 numbers cannot decide, in a child process that is killed at its time limit
    forms        STACK-like form tests: simplified, expanded, factored, no derivatives
    feedback     off by a sign, a constant factor or an additive constant
    display      readable text (that parses back) and LaTeX of a parsed answer

Importing this package is light; the submodules import sympy.
"""
