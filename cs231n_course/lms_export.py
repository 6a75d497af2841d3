"""The grades as a file an LMS gradebook imports: ``grades-<assignment>-lms.csv``.

``grade`` writes it next to the grades CSV (grades_csv.py) when a run ends (not when it is
stopped), from that CSV alone, so the two always agree. One row per graded student id
(status ``ok...``), in the grades CSV's order; a submission that could not be graded has no
row, so an import leaves whatever the LMS holds for that student as it is (the grades CSV
says why). Columns (comma-separated, UTF-8, one header row, every points cell a number):

- ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``: the identity
  columns of Canvas's gradebook export, which its import requires in this order. The
  student id (the submission's name) is in ``SIS User ID`` and in ``SIS Login ID``, so
  Canvas finds the student whichever of the two the ids are; the others are empty.
- one column per notebook with points, titled ``<assignment> <NN_name>`` (for example
  ``cs231n 06_dropout``): the notebook's automatic plus manual points;
- ``<assignment> total``: the sum of those columns (import it or the notebook columns, not
  both, or the LMS's course total counts the points twice).

The points are those graded so far: a written answer not yet graded by hand counts 0 (the
grades CSV leaves its manual cell empty; here it adds nothing).

Why this layout fits both:
- Canvas (Grades, Import): the header must start ``Student``, ``ID``, may go on with
  ``SIS User ID``, ``SIS Login ID``, and must end its identity columns with ``Section``;
  every later column is an assignment, matched by title or created. A student is found
  by ``ID``, then ``SIS User ID``, then ``SIS Login ID``, then by name.
- Moodle (Grades, Import, CSV file): any header; the import form maps one column to the
  users (``SIS User ID`` to "ID number", or to "username"), and each other column to a
  grade item, a new grade item, or nothing. It stops the whole import at a grade cell
  that is not a number, a grade above 100 (its default maximum; the course has 82 points)
  or a row whose user it cannot find: so there is no status column, no row without a
  grade, and no Canvas "Points Possible" row (a "user" Moodle would not find).
Column titles never end in ``(number)``: Canvas would read it as an assignment's id.
"""

import csv
import os
from pathlib import Path

IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
LMS_SUFFIX = "-lms"
AUTO_MAX = "_auto_max"


def lms_path(csv_path):
    """``grading/grades-cs231n.csv`` -> ``grading/grades-cs231n-lms.csv``."""
    csv_path = Path(csv_path)
    return csv_path.with_name(csv_path.stem + LMS_SUFFIX + csv_path.suffix)


def notebooks_of(header):
    """The notebooks of a grades CSV header, in its order (those with an ``_auto_max`` column)."""
    names = [column[:-len(AUTO_MAX)] for column in header if column.endswith(AUTO_MAX)]
    for name in names:
        missing = [name + suffix for suffix in ("_auto", "_manual") if name + suffix not in header]
        if missing:
            raise ValueError(f"the grades CSV has {name}{AUTO_MAX} but no {' or '.join(missing)} column: "
                             f"is it a grades CSV written by `cs231n-course grade`?")
    return names


def points(cell):
    """A graded row's points cell as a number; empty (an answer not graded by hand yet) is 0."""
    return float(cell) if cell.strip() else 0.0


def lms_table(header, rows, assignment):
    """(LMS header, LMS rows) from a grades CSV's header and rows (dicts keyed by its header)."""
    if "student" not in header or "status" not in header:
        raise ValueError(f"the grades CSV header {header[:3]} lacks a student or status column: "
                         f"is it a grades CSV written by `cs231n-course grade`?")
    names = notebooks_of(header)
    table = []
    for row in rows:
        if row["status"].startswith("ok"):
            per_notebook = [points(row[name + "_auto"]) + points(row[name + "_manual"]) for name in names]
            table.append(["", "", row["student"], row["student"], "",
                          *(f"{value:g}" for value in [*per_notebook, sum(per_notebook)])])
    return [*IDENTITY, *(f"{assignment} {name}" for name in names), f"{assignment} total"], table


def write_lms_csv(csv_path, assignment):
    """Write ``lms_path(csv_path)`` from the grades CSV at ``csv_path``, atomically; returns its path."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        header, table = lms_table(reader.fieldnames or [], rows, assignment)
    path = lms_path(csv_path)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(table)
    os.replace(partial, path)
    return path
