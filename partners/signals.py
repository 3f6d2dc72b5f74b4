"""Signals partners sends explicitly (never from model save hooks).

``evidence_changed`` is sent by the services and pages that change evidence a scorecard reads
(imports, undos, interviews, MSO profiles), so that scorecards can recompute without partners
depending on scorecards.
"""

from django.dispatch import Signal

evidence_changed = Signal()
