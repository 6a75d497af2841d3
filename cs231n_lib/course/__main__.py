"""``python -m cs231n_lib.course`` = the ``cs231n-course`` command."""

import sys

from cs231n_lib.course.cli import main

sys.exit(main())
