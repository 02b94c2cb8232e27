"""Loaded by pytest with -p before Django settings: each test run gets its own data dir."""

import os
import tempfile

os.environ.setdefault("SMMDESK_DATA_DIR", tempfile.mkdtemp(prefix="smmdesk-test-"))
