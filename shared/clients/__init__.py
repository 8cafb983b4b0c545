"""Typed clients for the internal APIs: one per service, shared by every caller.

Each client maps the service's answers to typed results; which error code a refusal
or an outage carries stays the caller's choice (constructor arguments), because each
service reports failures under its own prefix.
"""
