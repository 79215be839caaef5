"""Errors raised while reading or writing gradkit files. Both are `ValueError`s."""

from __future__ import annotations


class FormatError(ValueError):
    """A file that is not a valid (or not the expected kind of) gradkit/safetensors file.

    Raised for truncated, corrupted or hand-crafted files before any value is used; the
    message names the file and what is wrong with it.
    """


class ConfigError(ValueError):
    """A model architecture that cannot be written as JSON or rebuilt from it (for example
    a custom Module class that `gk.load` was not given)."""
