"""init / rank / world_size / excepthook without MPI (fake communicators)."""

import sys

import pytest

from gradkit import distributed as dist
from gradkit.distributed import Communicator, SelfCommunicator

from .test_parallel import FakeComm


class Aborts(FakeComm):
    def __init__(self, size=2):
        super().__init__(size=size)
        self.aborted = None

    def abort(self, code=1):
        self.aborted = code


@pytest.fixture(autouse=True)
def _fresh():
    dist.reset()
    yield
    dist.reset()


@pytest.mark.skipif(dist.launched_by_mpi(), reason="pytest itself runs under an MPI launcher")
def test_a_plain_process_is_rank_0_of_1_without_importing_mpi(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # any import of mpi4py would fail
    assert (dist.rank(), dist.world_size(), dist.is_main()) == (0, 1, True)
    assert not dist.is_initialized()
    assert dist.maybe_init(False) == (0, 1)
    assert isinstance(dist.get_communicator(), SelfCommunicator)
    dist.barrier()
    assert dist.local_rank() == 0 and dist.device() == "cpu"


def test_missing_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"pip install 'gradkit\[mpi\]'"):
        dist.init()
    with pytest.raises(ImportError, match="mpi4py"):
        dist.import_mpi()


def test_init_with_a_communicator():
    comm = FakeComm(size=4, rank=3)
    assert dist.init(comm=comm, abort_on_error=False) == (3, 4)
    assert dist.is_initialized() and dist.get_communicator() is comm
    assert (dist.rank(), dist.world_size(), dist.is_main()) == (3, 4, False)
    assert dist.init() == (3, 4)  # again: the same group
    with pytest.raises(ValueError, match="backend"):
        dist.init(backend="gloo", comm=FakeComm())


def test_excepthook_prints_the_traceback_and_aborts(capsys):
    previous = sys.excepthook
    comm = Aborts()
    dist.init(comm=comm)
    assert sys.excepthook is not previous
    try:
        raise ValueError("bad sample 17")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert "rank 0 of 2 failed" in err and "ValueError: bad sample 17" in err
    assert "Traceback" in err and comm.aborted == 1
    dist.reset()
    assert sys.excepthook is previous


def test_no_excepthook_for_one_rank():
    previous = sys.excepthook
    dist.init(comm=SelfCommunicator())
    assert sys.excepthook is previous


def test_abort_on_error_aborts_with_several_ranks(capsys):
    comm = Aborts()
    dist.init(comm=comm, abort_on_error=False)
    with dist.abort_on_error():
        raise RuntimeError("rank failure")
    assert comm.aborted == 1
    err = capsys.readouterr().err
    assert "RuntimeError: rank failure" in err
    assert "test_abort_on_error_aborts_with_several_ranks" in err  # the outer frames too


def test_abort_on_error_reraises_with_one_rank():
    dist.init(comm=SelfCommunicator())
    with pytest.raises(RuntimeError, match="alone"), dist.abort_on_error():
        raise RuntimeError("alone")


def test_entry_point_runs_under_abort_on_error():
    comm = Aborts()
    dist.init(comm=comm, abort_on_error=False)

    @dist.entry_point
    def main(x):
        raise KeyError(x)

    main("k")
    assert comm.aborted == 1


def test_communicator_base_is_abstract():
    with pytest.raises(NotImplementedError):
        Communicator().allreduce_(None)
