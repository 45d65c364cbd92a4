"""The run itself: errors, settings, the scenario, the pipeline, engines, the result and progress.

Nothing here is imported by ``siting/__init__`` at import time; the package holds no code of its own.
"""
