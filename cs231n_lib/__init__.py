"""cs231n_lib: the numpy library behind the cs231n-course notebooks.

Import what you need from its modules explicitly, for example
``from cs231n_lib.layers import conv_forward_naive``.
"""

__version__ = "0.1.0"
