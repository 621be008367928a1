"""Print billboards from the command line: one PDF, one page per station."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from stations import billboards
from stations.constants import BillboardPurpose, BillboardSize
from stations.selectors import station_get_by_code


class Command(BaseCommand):
    help = (
        "Write the billboards of one or more stations into one PDF, e.g. "
        "`billboard shipai linhe --size A3 -o billboards.pdf`."
    )

    def add_arguments(self, parser):
        parser.add_argument("codes", nargs="+", metavar="code", help="station codes")
        parser.add_argument(
            "--size",
            default=BillboardSize.A3,
            type=str.upper,
            choices=BillboardSize.values,
            help="paper size (default A3)",
        )
        parser.add_argument(
            "--purpose",
            default=BillboardPurpose.BOTH,
            type=str.lower,
            choices=BillboardPurpose.values,
            help="what the QR codes open: registration and help (both, the default), "
            "or a single large QR code for the station page, the registration or the help form",
        )
        parser.add_argument(
            "-o",
            "--output",
            default="billboards.pdf",
            help="PDF file to write (default billboards.pdf)",
        )

    def handle(self, *args, codes, size, purpose, output, **options):
        stations, unknown = [], []
        for code in codes:
            station = station_get_by_code(code)
            if station is None:
                unknown.append(code)
            else:
                stations.append(station)
        if unknown:
            raise CommandError(f"Unknown station code: {', '.join(unknown)}")
        built = billboards.build_pdf(stations, size, purpose)
        path = Path(output)
        try:
            path.write_bytes(built.content)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {len(stations)} billboard(s) ({size}, {purpose}) to {path} "
                f"({len(built.content) // 1024} KB)."
            )
        )
