"""The contract suite: one set of behaviours, run against every HTTP client integration."""
