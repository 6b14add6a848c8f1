"""Kepu (科普): a platform on which a city runs its citizen science-literacy action plan."""

__version__ = "0.1.0"
