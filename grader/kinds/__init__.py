"""Question kinds, one folder each: `<name>/kind.py` registers the kind with
grader.core.registry (the contract); its options, driver and helpers sit beside it.
Modules here that are not folders (common, tolerance) are shared by several kinds."""
