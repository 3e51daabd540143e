"""What the command line shares with subscriptions without loading the database layer (so that a
command starts quickly): the digest frequencies, the houses, and the subscription error."""

FREQUENCIES = ("immediate", "daily", "weekly")
HOUSES = ("Commons", "Lords")


class SubscriptionError(ValueError):
    """Bad input for a subscription (an address, a filter, a token); the message says which."""
