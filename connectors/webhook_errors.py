"""The error a platform's webhook module raises for a delivery it will not accept."""


class WebhookRejected(Exception):
    """The signature (or timestamp) of a webhook delivery is wrong; nothing is stored."""
