"""The pacing benchmark of PACING.md: scenarios, a simulated list of customers, the harness.

``scenario`` reads the TOML scenarios, ``world`` draws each list record's fate and hands
the records out, ``harness`` runs the real engine through a simulated day and measures
it from the ground truth (``metrics``), ``report`` writes tables, JSON, markdown and
plots, and ``cli`` is ``python -m dialer.sim``.
"""
