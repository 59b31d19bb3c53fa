"""The notifications service. E-mail and in-app notifications for what happened elsewhere, and
messaging with patients.
"""

__version__ = "0.1.0"
