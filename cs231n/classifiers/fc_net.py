"""CS231n's ``cs231n.classifiers.fc_net``, re-exported from cs231n_lib.models."""

from cs231n_lib.models import FullyConnectedNet, TwoLayerNet

__all__ = ["FullyConnectedNet", "TwoLayerNet"]
