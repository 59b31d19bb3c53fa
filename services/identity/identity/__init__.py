"""The identity service. Offices, their people and providers, sign-up and sign-in, invitations, API
clients and the directory.
"""

__version__ = "0.1.0"
