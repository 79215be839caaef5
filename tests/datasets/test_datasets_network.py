"""The download step, against a fake urlopen (no real network is used)."""

from __future__ import annotations

import gzip
import urllib.error

import pytest

from gradkit.datasets import DatasetUnavailable
from gradkit.datasets import mnist as m
from gradkit.datasets.idx import encode_idx

BASENAMES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
             "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
MIRRORS = ("https://dead.invalid/", "https://good.invalid/")


def served(tiny, base: str) -> dict[str, bytes]:
    return {f"{base}{BASENAMES[k]}.gz": gzip.compress(encode_idx(tiny.arrays[k]))
            for k in m.KEYS}


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("GRADKIT_OFFLINE")


def test_download_from_second_mirror(make_tiny, fake_network, isolated_env, online) -> None:
    tiny = make_tiny(mirrors=MIRRORS)
    seen = fake_network(served(tiny, MIRRORS[1]))
    tiny.check(m.load_idx_dataset(tiny.spec))
    # the dead mirror is asked once, then skipped for the remaining files
    assert seen[0] == "https://dead.invalid/train-images-idx3-ubyte.gz"
    assert [u for u in seen if "dead" in u] == [seen[0]]
    assert len(seen) == 5
    assert sorted(p.name for p in (isolated_env / "tiny").iterdir()) == sorted(
        f"{b}.gz" for b in BASENAMES.values())
    assert (isolated_env / "tiny.npz").is_file()
    seen.clear()
    tiny.check(m.load_idx_dataset(tiny.spec))
    assert seen == []  # from the cache


def test_bad_body_refused_then_next_mirror(make_tiny, fake_network, isolated_env, online) -> None:
    tiny = make_tiny(mirrors=("https://evil.invalid/", MIRRORS[1]))
    routes = served(tiny, MIRRORS[1])
    other = make_tiny(seed=5)
    routes.update(served(other, "https://evil.invalid/"))  # well-formed, wrong content
    seen = fake_network(routes)
    tiny.check(m.load_idx_dataset(tiny.spec))
    assert len(seen) == 8  # each file: evil refused (HTTP worked, so still asked), then good


def test_http_error_and_no_mirror_listed(make_tiny, fake_network, isolated_env, online) -> None:
    tiny = make_tiny(mirrors=MIRRORS)
    routes = served(tiny, MIRRORS[1])
    url = MIRRORS[1] + "t10k-labels-idx1-ubyte.gz"
    routes[url] = urllib.error.HTTPError(url, 404, "Not Found", {}, None)
    fake_network(routes)
    with pytest.raises(DatasetUnavailable) as e:
        m.load_idx_dataset(tiny.spec)
    text = str(e.value)
    assert f"{url}: HTTP 404 Not Found" in text
    assert "dead.invalid/train-images-idx3-ubyte.gz: network error: Name or service" in text
    assert "no mirror provided t10k-labels-idx1-ubyte.gz" in text
    assert not (isolated_env / "tiny.npz").exists()
    # the three verified files stay for next time; only the missing one is fetched again
    fake_network(served(tiny, MIRRORS[1]))
    tiny.check(m.load_idx_dataset(tiny.spec))


def test_offline_means_no_request(make_tiny, fake_network) -> None:
    tiny = make_tiny(mirrors=MIRRORS)
    seen = fake_network(served(tiny, MIRRORS[1]))
    with pytest.raises(DatasetUnavailable, match="network: skipped: GRADKIT_OFFLINE is set"):
        m.load_idx_dataset(tiny.spec)
    assert seen == []
