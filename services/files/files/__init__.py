"""The files service. Medical files attached to referrals and cases: validation, the blob store,
previews and downloads.
"""

__version__ = "0.1.0"
