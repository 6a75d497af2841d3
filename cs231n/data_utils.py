"""CS231n's ``cs231n.data_utils``, re-exported from cs231n_lib.data.

``get_CIFAR10_data`` reads CIFAR-10 from datasets/cifar-10-batches-py (or
$CS231N_DATA/cifar-10-batches-py); ``python datasets/get_cifar10.py``
downloads it.

Not provided:
- ``load_CIFAR10`` and ``load_CIFAR_batch``: the course's return (N, 32, 32, 3)
  float64 images; the library's ``cs231n_lib.data.load_cifar10`` returns
  (N, 3, 32, 32) float32, a different contract, so it is not renamed.
- ``load_pickle`` and ``load_models``: they unpickle files, which can run
  code stored in them, and this course ships no pickled models.
- ``load_tiny_imagenet`` and ``load_imagenet_val``: TinyImageNet and the
  ImageNet sample are not part of this course.
"""

from cs231n_lib.data import get_CIFAR10_data

__all__ = ["get_CIFAR10_data"]
