"""Tests for cs231n_lib.buffer_pool: reuse, size classes, the bound, release, threads."""

import pickle
import threading

import numpy as np
import pytest

from cs231n_lib.buffer_pool import BufferPool, size_class


def _address(array):
    return array.__array_interface__["data"][0]


def test_size_classes_round_up_by_at_most_an_eighth():
    assert [size_class(n) for n in (0, 1, 8, 9, 16, 17, 18, 19, 1000)] == [1, 1, 8, 9, 16, 18, 18, 20, 1024]
    for n in range(1, 5000):
        c = size_class(n)
        assert n <= c <= n + n / 8 and size_class(c) == c


def test_take_gives_the_shape_and_dtype_asked_for():
    pool = BufferPool()
    a = pool.take((3, 4, 5), np.float32)
    assert a.shape == (3, 4, 5) and a.dtype == np.float32 and a.flags.c_contiguous


def test_memory_given_back_is_taken_again_for_the_same_dtype_and_size_class():
    pool = BufferPool()
    a = pool.take((10, 100), np.float64)
    address = _address(a)
    pool.give_back([a])
    assert pool.spare_bytes == 1024 * 8  # the whole size class
    assert _address(pool.take((10, 100), np.float32)) != address  # another dtype: new memory
    b = pool.take((990,), np.float64)  # a smaller count in the same class
    assert _address(b) == address and b.shape == (990,)
    assert pool.spare_bytes == 0
    assert _address(pool.take((10, 100), np.float64)) != address  # `b` still holds it


def test_the_bound_drops_what_was_given_back_longest_ago():
    pool = BufferPool(limit_bytes=2 * 1024)
    old, middle, new = (pool.take((128,), np.float64) for _ in range(3))
    pool.give_back([old])
    pool.give_back([middle, new])
    assert pool.spare_bytes == 2048
    kept = {_address(pool.take((128,), np.float64)) for _ in range(2)}
    assert kept == {_address(middle), _address(new)}
    pool.give_back([pool.take((128,), np.float64)])
    pool.limit_bytes = 0
    assert pool.spare_bytes == 0


def test_release_returns_the_bytes_it_let_go():
    pool = BufferPool()
    pool.give_back([pool.take((4, 4), np.float32), pool.take((8,), np.float64)])
    assert pool.release() == 4 * 16 + 8 * 8
    assert pool.spare_bytes == 0 and pool.release() == 0


def test_arrays_the_pool_did_not_allocate_are_not_kept():
    pool = BufferPool()
    pool.give_back([np.zeros((3, 5)), np.zeros(17)[::2]])
    assert pool.spare_bytes == 0


@pytest.mark.parametrize("bad", [-1, 1.5, "1", True])
def test_a_bound_must_be_whole_bytes(bad):
    with pytest.raises(ValueError, match=f"limit_bytes must be a whole number of bytes >= 0, got {bad!r}"):
        BufferPool(limit_bytes=bad)


def test_a_pickled_pool_comes_back_empty_with_its_bound():
    pool = BufferPool(limit_bytes=12345)
    pool.give_back([pool.take((1000,), np.float64)])
    copy = pickle.loads(pickle.dumps(pool))
    assert copy.limit_bytes == 12345 and copy.spare_bytes == 0
    assert len(pickle.dumps(pool)) < 200


def test_threads_never_hold_the_same_memory_at_once():
    pool = BufferPool()
    clashes = []

    def work(mark):
        for _ in range(300):
            a = pool.take((64,), np.float64)
            a.fill(mark)
            a += 0  # give another thread time to write into the same memory if it could
            if not np.all(a == mark):
                clashes.append(mark)
            pool.give_back([a])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clashes == []
    assert pool.spare_bytes <= 8 * 64 * 8
