"""SatyaMark's Python SDK: submit texts, get verdicts pushed, manage keys and webhooks.

    from satyamark.client import SatyaMark

    with SatyaMark("https://satyamark.example", api_key="sm_live_…") as sm:
        outcome = sm.verify("The Eiffel Tower is in Paris.")   # waits for the push
        print(outcome.result.mark if outcome.result else outcome.error)

``AsyncSatyaMark`` is the same on asyncio. Both talk only to the public API (httpx for
requests, websockets for the pushed events) and return the API's own pydantic models.
"""

from .aio import AsyncSatyaMark
from .errors import SatyaMarkError
from .models import Outcome, Submitted
from .sync import SatyaMark
from .webhooks import verify_webhook

__all__ = [
    "AsyncSatyaMark",
    "Outcome",
    "SatyaMark",
    "SatyaMarkError",
    "Submitted",
    "verify_webhook",
]
