"""Fixtures of the product tests (test_product_*.py): a data dir per test and tasks run at commit."""

from contextlib import contextmanager

import pytest
from huey.contrib.djhuey import HUEY


@pytest.fixture
def own_data_dir(settings, tmp_path):
    # Model files are per workspace id, and ids repeat between tests: each test gets its own data dir.
    settings.DATA_DIR = tmp_path


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` ends like a commit: the tasks queued meanwhile run then, synchronously (and
    the tasks those queue), in the test's transaction."""

    @contextmanager
    def block():
        HUEY.immediate = True
        try:
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                yield callbacks
        finally:
            HUEY.immediate = False

    return block
