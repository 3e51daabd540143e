"""What every command module shares: the one-line usage error and the choices of the contract."""

from __future__ import annotations

from storage.terms import Frequency, House

FREQUENCIES = [frequency.value for frequency in Frequency]
HOUSES = [house.value for house in House]


class UsageError(ValueError):
    """Bad input on the command line; the message is the one line shown."""
