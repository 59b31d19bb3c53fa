"""The cases service. Lab cases: the RX script, the progress pipeline, archive, planning-session
booking and calendar export.
"""

__version__ = "0.1.0"
