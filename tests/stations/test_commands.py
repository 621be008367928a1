"""`manage.py billboard`: batch printing from the command line."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.stations.qr_decoding import decode_pdf_page, pdf_pages

pytestmark = pytest.mark.django_db


def test_billboard_command_writes_one_page_per_station(station, other_station, tmp_path):
    output = tmp_path / "billboards.pdf"
    call_command("billboard", "shipai", "LINHE", "--size", "a3", "-o", str(output))
    pdf = pdf_pages(output.read_bytes())
    assert len(pdf) == 2
    assert round(pdf[0].get_size()[0]) == 842  # A3 width in points
    assert decode_pdf_page(pdf[1])[1].endswith("/s/linhe/register/")


def test_billboard_command_purpose(station, tmp_path):
    output = tmp_path / "station.pdf"
    call_command("billboard", "shipai", "--purpose", "station", "--size", "A4", "-o", str(output))
    assert decode_pdf_page(pdf_pages(output.read_bytes())[0]) == [f"{settings.SITE_URL}/s/shipai/"]


def test_unknown_station_code_is_a_clear_error(station, tmp_path):
    with pytest.raises(CommandError, match="nosuch"):
        call_command("billboard", "shipai", "nosuch", "-o", str(tmp_path / "x.pdf"))
    assert not (tmp_path / "x.pdf").exists()


def test_unknown_size_or_purpose_is_a_clear_error(station, tmp_path):
    with pytest.raises(CommandError, match="A9"):
        call_command("billboard", "shipai", "--size", "A9", "-o", str(tmp_path / "x.pdf"))
    with pytest.raises(CommandError, match="poster"):
        call_command("billboard", "shipai", "--purpose", "poster", "-o", str(tmp_path / "x.pdf"))


def test_unknown_size_exits_non_zero_from_the_shell(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "manage.py", "billboard", "shipai", "--size", "A9"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "A9" in result.stderr
