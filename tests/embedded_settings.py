"""The embedded default (no DATABASE_URL: what `make run` starts) with its SQLite file moved
where a test chose (``PARLEY_TEST_SQLITE``), so a test can migrate a fresh one."""

import os

from parley.settings import *  # noqa: F403
from parley.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["PARLEY_TEST_SQLITE"]
