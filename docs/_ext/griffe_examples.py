"""Griffe extension for the API reference: ``Example:`` sections render as examples.

griffe reads only ``Examples:`` (plural) as an examples section, whose ``>>>`` lines it
renders as Python console blocks. ``Example:`` (singular, the spelling our style guide and
most of ``src`` use) becomes an admonition instead, where Markdown would turn each ``>>>``
line into a nested block quote. This extension renames the section header in the docstring
text griffe parses; the source files are not touched.

Loaded by ``mkdocs.yml`` (``plugins.mkdocstrings.handlers.python.options.extensions``) by its
path relative to the repository root, where ``make docs`` runs.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"^([ \t]*)Example:[ \t]*$", re.MULTILINE)


class SingularExampleSections(griffe.Extension):
    """Rewrite ``Example:`` section headers to ``Examples:`` before docstrings are parsed."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rename the section header in ``obj``'s docstring, if it has one."""
        docstring = obj.docstring
        if docstring is not None and "Example:" in docstring.value:
            docstring.value = _SINGULAR.sub(r"\1Examples:", docstring.value)
