"""The version of authwire (read by hatchling and by ``authwire.__version__``)."""

__version__ = "0.1.0"
