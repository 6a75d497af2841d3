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
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


def marked_regions(lines, begin=BEGIN, end=END, filename="<source>"):
    """Yield (begin_line, end_line, indent) for each region, 0-based indices into ``lines``.

    A marker counts only as a whole line (surrounding spaces aside), so prose
    that mentions a marker is not one. Raises ValueError naming the file and
    line of a nested, unclosed or unopened region.
    """
    opened = None
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped == begin:
            if opened is not None:
                raise ValueError(f"{filename}:{number + 1}: {begin} inside the region opened at line "
                                 f"{opened + 1} (regions cannot be nested)")
            opened = number
        elif stripped == end:
            if opened is None:
                raise ValueError(f"{filename}:{number + 1}: {end} without a {begin} before it")
            yield opened, number, lines[opened][: len(lines[opened]) - len(lines[opened].lstrip())]
            opened = None
    if opened is not None:
        raise ValueError(f"{filename}:{opened + 1}: {begin} is never closed by {end}")


def replace_marked_regions(lines, stub_lines, begin=BEGIN, end=END, filename="<source>"):
    """(new lines, number of regions): each region, markers included, replaced by stub_lines
    indented like its BEGIN marker."""
    out, position, count = [], 0, 0
    for first, last, indent in marked_regions(lines, begin, end, filename):
        out.extend(lines[position:first])
        out.extend(indent + stub for stub in stub_lines)
        position, count = last + 1, count + 1
    out.extend(lines[position:])
    return out, count


def solution_regions(source, filename="<source>"):
    """The text of each solution region (between the markers, markers excluded)."""
    lines = source.splitlines()
    return ["\n".join(lines[first + 1:last]) for first, last, _ in marked_regions(lines, filename=filename)]


def strip_solutions(source, filename="<source>"):
    """``source`` with every solution region replaced by ``raise NotImplementedError()``.

    Raises ValueError naming the file and line of an unmatched marker.
    """
    lines, _ = replace_marked_regions(source.splitlines(), STUB, filename=filename)
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")
