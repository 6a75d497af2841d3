"""Check cells' helpers: one module per notebook topic, shared pieces in ``common``.

A check function runs a student's code on small fixed cases, compares it
with a reference (the library's vectorised layers, or numbers worked out in
advance), and raises an AssertionError that says what was expected, what
came out, and a hint, naming a common mistake where the output gives it
away. It prints one line when everything is right.
"""
