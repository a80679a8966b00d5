"""TLS client certificates (mutual TLS) for requests and httpx.

Example:
    >>> import requests, authwire
    >>> cert = authwire.ClientCertificate("client.pem", "client.key")  # doctest: +SKIP
    >>> session = requests.Session()
    >>> session.mount("https://api.example.com/", cert.requests_adapter())  # doctest: +SKIP
"""

from authwire.tls._certificate import ClientCertificate, find_client_certificate

__all__ = ["ClientCertificate", "find_client_certificate"]
