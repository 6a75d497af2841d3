"""The course's command-line tool: release, grade, validate, and the student workspace."""
