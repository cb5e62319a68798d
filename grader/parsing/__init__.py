"""Parsers that turn what a student wrote into values, or into an Invalid that says why not."""
