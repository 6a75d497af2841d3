"""``python -m cs231n_course`` = the ``cs231n-course`` command."""

import sys

from cs231n_course.cli import main

sys.exit(main())
