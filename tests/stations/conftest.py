"""Fixtures of the stations tests."""

import pytest

from stations.visits import visit_buffer_take


@pytest.fixture(autouse=True)
def _empty_visit_buffer():
    """Start every test without page views buffered in this process by an earlier one."""
    visit_buffer_take()
    yield
    visit_buffer_take()
