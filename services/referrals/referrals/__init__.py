"""The referrals service. Referrals from one office to another: the patient, teeth, procedures,
stages, notes and the printable slip.
"""

__version__ = "0.1.0"
