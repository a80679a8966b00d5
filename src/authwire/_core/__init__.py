"""The sans-I/O core of authwire.

Strictly private. Nothing in this package performs I/O or imports an HTTP library: flows
describe the requests they need and receive the responses; the integrations
(``authwire.requests``, ``authwire.httpx``) and the credential senders do the sending.
``tests/unit/test_core_is_pure.py`` imports this package in a fresh interpreter and checks
that neither ``requests`` nor ``httpx`` was imported.
"""
