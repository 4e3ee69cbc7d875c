"""``manage.py load_demo``: the demo centre, loaded once; today's assignments every run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from calldeck.accounts.demo import (
    BANK_CUSTOMERS,
    DEMO_CLIENT_CODE,
    DemoConflict,
    demo_load,
    logins_table,
)


class Command(BaseCommand):
    help = (
        "Load the demo centre (示例银行 and 示例保险, users, teams, a campaign and 2,000 "
        "customers). Running it again adds only today's team assignments."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = demo_load()
        except DemoConflict as exc:
            raise CommandError(str(exc)) from None
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded the demo: client '{DEMO_CLIENT_CODE}' with "
                    f"{BANK_CUSTOMERS:,} customers, and client 'demo-insurer'."
                )
            )
        else:
            self.stdout.write(f"The demo is already loaded (client '{DEMO_CLIENT_CODE}').")
        if result.holidays_added:
            self.stdout.write(f"Holiday table: {result.holidays_added} day(s) added.")
        if result.assignments_created:
            self.stdout.write(f"Assigned today's work: {result.assignments_created} team(s).")
        self.stdout.write("\nDemo logins:\n")
        self.stdout.write(logins_table(result.logins))
