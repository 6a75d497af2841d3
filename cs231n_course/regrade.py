"""Grade again only what changed: a record of what each student's grade was computed from.

``grade`` builds each student's graded copy (the release plus the student's answer files)
and hashes it together with the grading options (``graded_digest``). When the record
``<course-dir>/graded-<assignment>.json`` holds the same digest for that student from a
run that ended ``ok``, the earlier grade stands: the copy is not graded again, the points
are read from the gradebook (so points given by hand since then show) and the status,
review notes and seconds come from the record. A new or changed submission, a new release
(it changes every graded copy), other options, a student named with ``--student`` or
``--force`` grade again. A grade that did not end ``ok`` is always tried again.

Record format: ``{"format": 1, "students": {id: {"digest", "status", "review", "seconds"}}}``,
written after every student (to a temporary file, then renamed), so a stopped run keeps
what it finished.
"""

import hashlib
import json
import os
from pathlib import Path

from cs231n_course.release import file_hashes

RECORD = "graded-{assignment}.json"
RECORD_FORMAT = 1


def graded_digest(folder, options):
    """sha256 of ``options`` (a dict) and of every file under ``folder`` (``release.file_hashes``)."""
    text = json.dumps({"options": options, "files": file_hashes(folder)}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class GradingRecord:
    """What each student's last ``ok`` grade was computed from, kept in the course directory."""

    def __init__(self, course_dir, assignment):
        self.path = Path(course_dir) / RECORD.format(assignment=assignment)
        self.students = self._load()

    def _load(self):
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}  # unreadable: grade everyone again, and write a new one
        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
            return {}
        students = data.get("students")
        return students if isinstance(students, dict) else {}

    def unchanged(self, student, digest):
        """The recorded entry when ``student``'s last grade ended ok and came from ``digest``, else None."""
        entry = self.students.get(student)
        if isinstance(entry, dict) and entry.get("digest") == digest and str(entry.get("status", "")).startswith("ok"):
            return entry
        return None

    def save(self, student, digest, result):
        """Record ``result`` (a StudentResult) as graded from ``digest``; forget the student if it did not end ok."""
        if result.status.startswith("ok"):
            self.students[student] = {"digest": digest, "status": result.status, "review": list(result.review),
                                      "seconds": round(result.seconds, 1)}
        else:
            self.students.pop(student, None)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps({"format": RECORD_FORMAT, "students": self.students}, indent=1,
                                      sort_keys=True) + "\n", encoding="utf-8")
        os.replace(partial, self.path)
