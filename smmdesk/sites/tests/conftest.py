"""The sites tests' shared fixture: a hairdresser workspace with clusters (see fixtures.py)."""

from smmdesk.sites.tests.fixtures import site  # noqa: F401 - a fixture for every test here
