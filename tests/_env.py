"""Environment defaults for the test run, set before pytest-django imports the settings.

Loaded as a plugin (``-p tests._env`` in pyproject's addopts) because plugins named with
``-p`` are imported before pytest-django reads ``calldeck.settings``; a conftest would be
too late. Values already in the environment win, so CI can run the same suite against
PostgreSQL with ``DATABASE_URL``.
"""

from __future__ import annotations

import os

# Settings refuse to start without a secret outside the demo; tests are neither.
os.environ.setdefault("SECRET_KEY", "calldeck-tests-only-not-a-secret")
