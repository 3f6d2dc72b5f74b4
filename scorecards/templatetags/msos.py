"""Labels for the codes stored in snapshot documents and read queries."""

from django import template

from partners.models import (
    AccreditationBody,
    InterviewProvenance,
    OwnershipModel,
    PromiseOutcome,
    ServiceArea,
    SpecialtyFocus,
    WouldChooseAgain,
)

register = template.Library()

_LABELS = {
    "ownership_label": dict(OwnershipModel.choices),
    "focus_label": dict(SpecialtyFocus.choices),
    "service_label": dict(ServiceArea.choices),
    "body_label": dict(AccreditationBody.choices),
    "provenance_label": dict(InterviewProvenance.choices),
    "outcome_label": dict(PromiseOutcome.choices),
    "choose_again_label": dict(WouldChooseAgain.choices),
}


def _label_filter(name, labels):
    def label(code):
        return labels.get(code, code or "")

    label.__name__ = name
    register.filter(name, label)


for _name, _labels in _LABELS.items():
    _label_filter(_name, _labels)


@register.filter
def active_count(practices):
    """How many of a document's practices were affiliated at data-as-of."""
    return sum(1 for p in practices or () if p.get("active"))
