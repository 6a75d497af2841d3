"""CS231n's ``cs231n.classifiers``: the models, from cs231n_lib.models (see fc_net and cnn)."""
