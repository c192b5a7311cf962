"""SafeBed's matcher: proposes placements of referred youths in safe homes.

Pure Python and OR-Tools; it imports nothing from the web app or the database. Plain
dataclasses in (`solver.instance`), a `Result` out (`solver.result`); `python -m solver`
offers the same contract on JSON files (see docs/matcher.md).
"""
