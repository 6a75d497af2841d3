"""Solution regions: the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION``.

The instructor's library and notebooks hold the solutions; a student's copy
is made by replacing every region with

    # YOUR CODE HERE
    raise NotImplementedError()

at the indentation of its BEGIN marker (the same replacement nbgrader makes
in notebook cells), so everything else stays importable.
"""

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"


def _regions(source, filename):
    """Yield (begin_line, end_line, indent) for each region, 0-based line numbers."""
    lines = source.splitlines()
    begin = None
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped == BEGIN:
            if begin is not None:
                raise ValueError(f"{filename}:{number + 1}: {BEGIN} inside the region opened at line {begin + 1}")
            begin = number
        elif stripped == END:
            if begin is None:
                raise ValueError(f"{filename}:{number + 1}: {END} without a {BEGIN} before it")
            yield begin, number, lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
            begin = None
    if begin is not None:
        raise ValueError(f"{filename}:{begin + 1}: {BEGIN} is never closed by {END}")


def solution_regions(source, filename="<source>"):
    """The text of each solution region (between the markers, markers excluded)."""
    lines = source.splitlines()
    return ["\n".join(lines[begin + 1:end]) for begin, end, _ in _regions(source, filename)]


def strip_solutions(source, filename="<source>"):
    """``source`` with every solution region replaced by ``raise NotImplementedError()``.

    Raises ValueError naming the file and line of an unmatched marker.
    """
    lines = source.splitlines()
    out, position = [], 0
    for begin, end, indent in _regions(source, filename):
        out.extend(lines[position:begin])
        out.extend([f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"])
        position = end + 1
    out.extend(lines[position:])
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")
