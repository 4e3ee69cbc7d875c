"""``manage.py load_holidays [--year Y]``: copy the package's holidays into the app's table."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calldeck.campaigns.holidays import holiday_data_missing, holidays_load


class Command(BaseCommand):
    help = (
        "Copy statutory holidays and make-up workdays from the chinesecalendar package into "
        "the holiday table (all years, or --year). Days already in the table are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, help="Load only this year.")

    def handle(self, *args: Any, **options: Any) -> None:
        year: int | None = options["year"]
        result = holidays_load(year=year)
        if year is not None and not result.years:
            raise CommandError(
                f"The chinesecalendar package has no data for {year}. Upgrade it "
                "(pip install -U chinesecalendar) or add the days in the admin."
            )
        span = f"{result.years[0]}–{result.years[-1]}" if result.years else "-"
        self.stdout.write(
            self.style.SUCCESS(
                f"Holidays {span}: {result.added} day(s) added, {result.kept} already there."
            )
        )
        if year is None and result.years and holiday_data_missing(result.years[-1] + 1):
            self.stdout.write(
                f"No holiday data for {result.years[-1] + 1} yet: add its days in the admin "
                "when they are published, or load them from a newer chinesecalendar."
            )
