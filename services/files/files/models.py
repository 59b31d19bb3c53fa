"""The files service's tables (its own database; no other service reads them)."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of this service's models; its metadata drives the migrations."""
