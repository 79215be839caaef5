"""The `slow` marker of the distributed tests (deselect with `-m "not slow"`)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a slower case (deselect with -m 'not slow')")
