"""OAuth 2.0 protocol logic: request builders, response parsers and grant flows.

Strictly private. Modules are named after what they implement and cite their RFC
sections; none performs I/O.
"""
