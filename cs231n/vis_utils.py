"""CS231n's ``cs231n.vis_utils``, re-exported from cs231n_lib.vis.

Not provided: ``vis_grid`` and ``vis_nn``. They repeat ``visualize_grid``'s
job with one scale for the whole grid, and no assignment-2 notebook calls them.
"""

from cs231n_lib.vis import visualize_grid

__all__ = ["visualize_grid"]
