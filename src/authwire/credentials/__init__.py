"""Credentials: where tokens come from."""
