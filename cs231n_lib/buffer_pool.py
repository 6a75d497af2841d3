"""A bounded, thread-safe pool of scratch arrays that the fast layers reuse from call to call.

Training calls the same layers with the same shapes step after step. Scratch
memory taken fresh on every call costs page faults when it is first written
(measured: a sixth of a ThreeLayerConvNet step, more in float64), so the fast
layers take their scratch arrays from a pool and give them back when they are
done with them:

- ``take(shape, dtype)`` hands out an array nobody else holds: a spare one of
  the same dtype and size class if the pool has one, otherwise new memory.
  Size classes round the element count up by at most an eighth, so a batch's
  last, smaller block can reuse a full block's buffer.
- ``give_back(arrays)`` returns arrays the caller no longer uses. A forward
  pass's buffers that a pending backward pass still needs are only given back
  by that backward pass, so they are never handed out twice.
- The pool keeps at most ``limit_bytes`` of spare memory; giving back more
  drops the arrays given back longest ago. ``release()`` drops them all.

Every method holds the pool's lock while it changes the spare list, so threads
may share one pool.
"""

import math
import threading

import numpy as np

DEFAULT_LIMIT_BYTES = 256 * 2**20


def size_class(count):
    """Element count rounded up to a multiple of an eighth of its highest power of two."""
    if count <= 8:
        return max(count, 1)
    step = 1 << (count.bit_length() - 4)
    return -(-count // step) * step


class BufferPool:
    """Spare scratch arrays, keyed by dtype and size class, bounded by ``limit_bytes``."""

    def __init__(self, limit_bytes=DEFAULT_LIMIT_BYTES):
        self._lock = threading.Lock()
        self._spare = []  # flat owner arrays, the one given back longest ago first
        self._spare_bytes = 0
        self.limit_bytes = limit_bytes

    @property
    def limit_bytes(self):
        return self._limit_bytes

    @limit_bytes.setter
    def limit_bytes(self, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"limit_bytes must be a whole number of bytes >= 0, got {value!r}")
        with self._lock:
            self._limit_bytes = value
            self._evict()

    @property
    def spare_bytes(self):
        """Bytes of memory the pool is holding for later calls."""
        return self._spare_bytes

    def take(self, shape, dtype):
        """An uninitialised C-contiguous array of ``shape`` and ``dtype`` that no one else holds."""
        dtype = np.dtype(dtype)
        count = math.prod(shape)
        wanted = size_class(count)
        with self._lock:
            for i in range(len(self._spare) - 1, -1, -1):
                owner = self._spare[i]
                if owner.size == wanted and owner.dtype == dtype:
                    del self._spare[i]
                    self._spare_bytes -= owner.nbytes
                    return owner[:count].reshape(shape)
        return np.empty(wanted, dtype=dtype)[:count].reshape(shape)

    def give_back(self, arrays):
        """Return arrays that ``take`` handed out; the caller must not use them afterwards."""
        owners = [owner for owner in map(_owner, arrays) if owner is not None]
        with self._lock:
            self._spare.extend(owners)
            self._spare_bytes += sum(owner.nbytes for owner in owners)
            self._evict()

    def release(self):
        """Drop every spare array; returns the number of bytes let go."""
        with self._lock:
            freed = self._spare_bytes
            self._spare = []
            self._spare_bytes = 0
        return freed

    def _evict(self):
        while self._spare and self._spare_bytes > self._limit_bytes:
            self._spare_bytes -= self._spare.pop(0).nbytes

    def __getstate__(self):
        # Spare memory is not worth saving: a pickled pool (a checkpointed model's) comes back empty.
        return {"limit_bytes": self._limit_bytes}

    def __setstate__(self, state):
        self.__init__(state.get("limit_bytes", DEFAULT_LIMIT_BYTES))


def _owner(array):
    """The flat array ``take`` allocated, of which ``array`` is a view (None for foreign arrays)."""
    owner = array.base if array.base is not None else array
    if owner.ndim != 1 or not owner.flags.c_contiguous or owner.size != size_class(owner.size):
        return None
    return owner
