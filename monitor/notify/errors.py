"""The subscription error, import-light: the command line catches it without loading the
database layer (so that a command starts quickly)."""


class SubscriptionError(ValueError):
    """Bad input for a subscription (an address, a filter, a token); the message says which."""
