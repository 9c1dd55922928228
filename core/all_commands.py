"""Imports every module that defines commands, so each one's decision is registered.

The ledger imports this once; add a job's commands module here when you create one."""

from . import site  # noqa: F401
