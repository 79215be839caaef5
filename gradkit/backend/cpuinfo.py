"""One field of Linux's /proc/cpuinfo (the first CPU's), or "" where there is none."""

from __future__ import annotations


def field(name: str) -> str:
    """The value of `name` ("model name", "vendor_id", ...) for the first CPU listed."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(name) and line[len(name):].lstrip(" \t").startswith(":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""
