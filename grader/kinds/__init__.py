"""Question kinds: one module per kind, each registering itself with grader.core.registry."""
