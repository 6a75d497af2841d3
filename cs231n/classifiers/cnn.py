"""CS231n's ``cs231n.classifiers.cnn``, re-exported from cs231n_lib.models."""

from cs231n_lib.models import ThreeLayerConvNet

__all__ = ["ThreeLayerConvNet"]
