"""The version of gradkit (one place; the package, the CLI and saved files read it)."""

__version__ = "0.1.0"
