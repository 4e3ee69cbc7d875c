"""``manage.py import_customers PATH``: import a customer file (or a do-not-call list, a
blacklist, consent records) from the command line, with the same rules as the web."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from calldeck.accounts.models import Client
from calldeck.customers.importing import ImportFileError, import_file
from calldeck.customers.models import ImportKind, ImportMapping


class Command(BaseCommand):
    help = (
        "Import customers from a CSV (UTF-8, GBK, GB18030) or XLSX file. Every row not "
        "imported as it was is listed in the report (row,column,value,reason); the import "
        "is all or nothing, and running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the CSV or XLSX file")
        parser.add_argument("--mapping", help="name of a saved column mapping")
        parser.add_argument(
            "--campaign", type=int, help="load the imported customers into this campaign"
        )
        parser.add_argument("--report", help="write the row report (CSV) to this file")
        parser.add_argument("--summary-json", help="write the summary (JSON) to this file")
        parser.add_argument(
            "--client", help="code of the client the customers belong to (if several)"
        )
        parser.add_argument(
            "--kind",
            choices=[k.value for k in ImportKind],
            default=ImportKind.CUSTOMERS.value,
            help="what the file holds (default: customers)",
        )
        parser.add_argument("--encoding", help="utf-8, gbk or gb18030 (default: detected)")
        parser.add_argument("--reason", help="reason of imported do-not-call / blacklist entries")
        parser.add_argument(
            "--expires", help="expiry of imported do-not-call / blacklist entries (YYYY-MM-DD)"
        )
        parser.add_argument("--source", help="source of imported consent records")
        parser.add_argument(
            "--contacted-within-days",
            type=int,
            help="with --campaign: leave out customers called in the last N days",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        campaign = self._campaign(options["campaign"])
        client = campaign.client if campaign is not None else self._client(options["client"])
        kind = options["kind"]
        columns = None
        if options["mapping"]:
            try:
                mapping = ImportMapping.objects.get(
                    client=client, kind=kind, name=options["mapping"]
                )
            except ImportMapping.DoesNotExist:
                names = ", ".join(
                    ImportMapping.objects.filter(client=client, kind=kind).values_list(
                        "name", flat=True
                    )
                )
                raise CommandError(
                    f"No saved mapping named {options['mapping']!r} for {client.code} "
                    f"({kind}); saved: {names or 'none'}"
                ) from None
            columns = mapping.columns
            options["encoding"] = options["encoding"] or mapping.encoding or None
        import_options = {k: options[k] for k in ("reason", "source") if options.get(k)}
        if options.get("expires"):
            import_options["expires_at"] = options["expires"]
        report = None
        if options["report"]:
            # UTF-8 with a BOM, so Excel shows the Chinese columns right.
            report = open(options["report"], "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        try:
            result = import_file(
                client=client,
                path=path,
                kind=kind,
                columns=columns,
                encoding=options["encoding"],
                options=import_options,
                report=report,
            )
        except ImportFileError as err:
            raise CommandError(f"{path}: {err}") from None
        finally:
            if report is not None:
                report.close()
        summary = dict(result.summary)
        if campaign is not None:
            summary["campaign"] = self._load(campaign, result.customer_ids, options)
        summary["seconds"] = result.seconds
        if options["summary_json"]:
            Path(options["summary_json"]).write_text(
                json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        self.stdout.write(json.dumps(summary, ensure_ascii=False))

    def _client(self, code: str | None) -> Client:
        if code:
            try:
                return Client.objects.get(code=code)
            except Client.DoesNotExist:
                raise CommandError(f"No client with code {code!r}") from None
        clients = list(Client.objects.all()[:2])
        if len(clients) != 1:
            raise CommandError("Several clients exist (or none): name one with --client CODE")
        return clients[0]

    def _campaign(self, pk: int | None) -> Any:
        if pk is None:
            return None
        from calldeck.campaigns.models import Campaign

        try:
            return Campaign.objects.select_related("client").get(pk=pk)
        except Campaign.DoesNotExist:
            raise CommandError(f"No campaign with id {pk}") from None

    def _load(self, campaign: Any, ids: list[int], options: dict[str, Any]) -> dict[str, Any]:
        from calldeck.campaigns.lists import list_load
        from calldeck.campaigns.models import ListSource

        try:
            load = list_load(
                actor=None,
                campaign=campaign,
                customer_ids=ids,
                contacted_within_days=options.get("contacted_within_days"),
                source=ListSource.FILE,
            )
        except (ValidationError, PermissionDenied) as err:
            sys.stderr.write(f"The customers were imported but not loaded: {err}\n")
            raise CommandError(str(err)) from None
        return {
            "id": campaign.pk,
            "candidates": load.candidates,
            "loaded": load.loaded,
            "excluded": load.excluded,
        }
