"""The `slow` marker: tests that train for minutes (the CNN's accuracy on MNIST) run only
when asked, `GRADKIT_RUN_SLOW=1 pytest -m slow tests/cli`; the normal run skips them."""

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains for minutes; runs with GRADKIT_RUN_SLOW=1")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("GRADKIT_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow (minutes of training): set GRADKIT_RUN_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
