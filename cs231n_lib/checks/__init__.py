"""Check cells' helpers: one module per notebook topic, shared pieces in ``common``.

A check function runs a student's code on small fixed cases and compares it
with outputs written out in advance: literal arrays for worked cases, salted
hashes for value answers and for the outputs of common mistakes. No module
here holds an exercise's answer or a second implementation of it (the
instructor's tests in tests/ keep those and prove the literals and hashes
right). A wrong result raises an AssertionError that says what is wrong and
how to work it out, naming the common mistake its output matches; a value
answer is never printed. One line is printed when everything is right.
"""
