"""Imports every module that defines commands, so each one's decision is registered.

The ledger imports this once. A job's package imports its own commands module in its
``__init__``; a new job is added here."""

from . import auth, infusion, intake, integrity, labs, predose, preparation, schedule, site  # noqa: F401
