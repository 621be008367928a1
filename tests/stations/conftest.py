"""Fixtures of the stations tests."""

import pytest

from config.settings import base
from stations import selectors, views
from stations.visits import visit_buffer_take


@pytest.fixture(autouse=True)
def _fresh_process_state(settings):
    """
    Start every test like a fresh web process: no page views buffered, no pages or QR codes
    in memory, no remembered generation — and with the production default of remembering
    the generation (the test settings switch it off for the other apps' tests).
    """
    settings.STATIONS_GENERATION_LOCAL_SECONDS = base.STATIONS_GENERATION_LOCAL_SECONDS

    def reset():
        visit_buffer_take()
        selectors.stations_generation_forget()
        views._PAGE_SHELLS.clear()
        views._QR_FILES.clear()
        views._QR_BY_URL.clear()

    reset()
    yield
    reset()
