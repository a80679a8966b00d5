"""``python -m authwire``: the ``authwire`` command."""

from authwire.cli import main

main()
