"""gissdk: an ArcGIS-style auth surface (``arcgis.auth``) as a thin mapping onto authwire.

Users keep their calls: ``EsriSession(auth=..., verify_cert=..., referer=...)``, the
``Esri*Auth`` handlers by their names, chaining with ``+`` (their own
``requests.auth.AuthBase`` included) and ``GIS(url, username, password)``.
"""

from __future__ import annotations

from gissdk._handlers import (
    BaseEsriAuth,
    EsriAPIKeyAuth,
    EsriBasicAuth,
    EsriBuiltInAuth,
    EsriGenTokenAuth,
    EsriHttpNtlmAuth,
    EsriHttpResponseError,
    EsriKerberosAuth,
    EsriNotebookAuth,
    EsriOAuth2Auth,
    EsriPKIAuth,
    EsriUserTokenAuth,
    EsriWindowsAuth,
)
from gissdk._session import DEFAULT_METHOD_WHITELIST, DEFAULT_STATUS_TO_RETRY, EsriSession
from gissdk.gis import GIS

__all__ = [
    "DEFAULT_METHOD_WHITELIST",
    "DEFAULT_STATUS_TO_RETRY",
    "GIS",
    "BaseEsriAuth",
    "EsriAPIKeyAuth",
    "EsriBasicAuth",
    "EsriBuiltInAuth",
    "EsriGenTokenAuth",
    "EsriHttpNtlmAuth",
    "EsriHttpResponseError",
    "EsriKerberosAuth",
    "EsriNotebookAuth",
    "EsriOAuth2Auth",
    "EsriPKIAuth",
    "EsriSession",
    "EsriUserTokenAuth",
    "EsriWindowsAuth",
]
