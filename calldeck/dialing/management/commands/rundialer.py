"""``manage.py rundialer``: a dialer process for progressive and predictive campaigns.

It takes the leases of the campaigns no other live process holds, dials them with the
engine and puts answered calls through to the agents' desks. SIGINT / SIGTERM stop it
cleanly: no new calls, the calls in progress end (up to ``--drain-seconds``), then its
leads and leases are given back. If it is killed outright, another dialer process takes
its campaigns over once the leases lapse.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from calldeck.dialing.dialer_process import DialerProcess, default_owner
from calldeck.dialing.leads import DIALER_OWNER_MAX
from calldeck.dialing.runtime import sim_world_from_settings
from dialer.clock import LoopClock
from dialer.telephony.sim import SimTelephony

log = logging.getLogger("calldeck.dialing.rundialer")


class Command(BaseCommand):
    help = (
        "Run a dialer process: leases on progressive and predictive campaigns, the dialing "
        "engine, calls put through to the agents. Stop it with Ctrl-C or SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--owner", default="", help="This process's name on its leases (host-pid by default)."
        )
        parser.add_argument(
            "--lease-seconds", type=float, default=15.0, help="Lease length (default 15 s)."
        )
        parser.add_argument(
            "--telephony",
            choices=["sim", "sip"],
            default=None,
            help="Telephony adapter (default: CALLDECK_TELEPHONY).",
        )
        parser.add_argument(
            "--drain-seconds",
            type=float,
            default=60.0,
            help="On stop, how long calls in progress may go on (default 60 s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner: str = options["owner"] or default_owner()
        if len(owner) > DIALER_OWNER_MAX:
            raise CommandError(f"--owner is at most {DIALER_OWNER_MAX} characters.")
        lease_s: float = options["lease_seconds"]
        if lease_s < 3:
            raise CommandError("--lease-seconds must be at least 3.")
        kind = options["telephony"] or settings.CALLDECK_TELEPHONY
        if kind != "sim":
            raise CommandError(
                "SIP telephony is not available yet (it arrives with issue 9): "
                "use CALLDECK_TELEPHONY=sim or --telephony sim."
            )
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("calldeck.dialing").setLevel(logging.INFO)

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        clock = LoopClock(loop)
        telephony = SimTelephony(clock, sim_world_from_settings())
        process = DialerProcess(owner, clock, telephony, lease_s=lease_s)
        drain_s: float = options["drain_seconds"]
        stopping = False
        tasks: list[asyncio.Task[None]] = []

        async def drain() -> None:
            deadline = time.monotonic() + drain_s
            while process.active_calls() and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            left = process.active_calls()
            if left:
                log.warning("dialer %s: %s calls still open are ended now", owner, left)
            process.finish()
            loop.stop()

        def shutdown() -> None:
            nonlocal stopping
            if stopping:
                return
            stopping = True
            self.stdout.write(f"Dialer {owner}: stopping (no new calls, calls in progress end).")
            process.stop_dialing()
            tasks.append(loop.create_task(drain()))

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, shutdown)
        loop.call_soon(process.start)
        self.stdout.write(
            f"Dialer {owner}: running with {kind} telephony, leases of {lease_s:g} s "
            "(Ctrl-C to stop)."
        )
        try:
            loop.run_forever()
        finally:
            process.db.shutdown()
            loop.close()
        self.stdout.write(f"Dialer {owner}: stopped, leases given back.")
