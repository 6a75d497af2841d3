"""Answer cells worth a human look: code that reaches for the grading machinery.

Grading runs an answer cell in the same Python process as the checks, so a
cell can replace a check function in memory and collect its points; no
sandbox prevents that. These patterns never occur in an honest answer to this
course's exercises, so ``grade`` lists the cells that contain them.
"""

import re
from pathlib import Path

import nbformat

SUSPICIOUS = re.compile(
    r"\bcheck_\w+\s*=|def\s+check_\w+|cs231n_lib\.checks|\bchecks\.\w+\s*=|sys\.modules|\bbuiltins\b"
    r"|__import__|importlib\.reload|setattr\s*\("
)


def suspicious_answer_cells(folder):
    """['<notebook>:<grade_id>', ...] for answer cells in ``folder``'s notebooks matching SUSPICIOUS."""
    flagged = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception:  # an unreadable notebook is nbgrader's to report, not ours
            continue
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution") and cell.cell_type == "code" and SUSPICIOUS.search(cell.source):
                flagged.append(f"{path.stem}:{meta.get('grade_id', '?')}")
    return flagged
