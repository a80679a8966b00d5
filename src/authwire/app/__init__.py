"""authwire under an SDK's own name: ``App`` and ``TokenFile``.

Example:
    >>> from authwire.app import App, TokenFile
    >>> app = App(
    ...     "mysdk",
    ...     token_url="https://login.example.com/token",
    ...     client_id="mysdk-cli",
    ...     token_file=TokenFile("~/.mysdk/token.json"),
    ... )
    >>> app.env("CLIENT_ID")
    'MYSDK_CLIENT_ID'
"""

from authwire.app._app import DEFAULT_APP, App
from authwire.app._token_file import TokenFile, TokenFileEntry

__all__ = ["DEFAULT_APP", "App", "TokenFile", "TokenFileEntry"]
