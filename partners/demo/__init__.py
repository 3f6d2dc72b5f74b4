"""Invented demo data for the MSO Evaluator: the profiles and word lists, and the generator."""

from .generator import (
    SCALES,
    Scale,
    add_years,
    copy_responses,
    delete_evidence,
    generated_profiles,
    import_responses,
    load,
    plan_interviews,
    plan_practices,
)
from .profiles import PROFILES, Profile

__all__ = [
    "PROFILES",
    "SCALES",
    "Profile",
    "Scale",
    "add_years",
    "copy_responses",
    "delete_evidence",
    "generated_profiles",
    "import_responses",
    "load",
    "plan_interviews",
    "plan_practices",
]
