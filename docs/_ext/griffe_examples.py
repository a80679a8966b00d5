"""Griffe extension for the API reference: docstrings written for ``help()`` read well too.

* griffe reads only ``Examples:`` (plural) as an examples section, whose ``>>>`` lines it
  renders as Python console blocks. ``Example:`` (singular, the spelling our style guide
  and most of ``src`` use) becomes an admonition instead, where Markdown would turn each
  ``>>>`` line into a nested block quote; the header is renamed.
* A paragraph ending in the reStructuredText literal marker ``::`` before an indented block
  shows the ``::`` in Markdown (the indented block is already a code block); it becomes
  ``:``.

Only the docstring text griffe parses is changed; the source files are not touched.

Loaded by ``mkdocs.yml`` (``plugins.mkdocstrings.handlers.python.options.extensions``) by its
path relative to the repository root, where ``make docs`` runs.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"^([ \t]*)Example:[ \t]*$", re.MULTILINE)
_LITERAL_MARKER = re.compile(r"(\S)::[ \t]*\n(?=[ \t]*\n)")


class DocstringsForMarkdown(griffe.Extension):
    """Adjust docstring text before it is parsed (see the module docstring)."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring, if it has one."""
        docstring = obj.docstring
        if docstring is None:
            return
        text = docstring.value
        if "Example:" in text:
            text = _SINGULAR.sub(r"\1Examples:", text)
        if "::" in text:
            text = _LITERAL_MARKER.sub(r"\1:\n", text)
        docstring.value = text
