"""The demo data itself: the invented MSO profiles and the word lists the generator draws from."""

from dataclasses import dataclass

from ..models import AccreditationBody, ClaimKind, OwnershipModel, PromiseOutcome, ServiceArea

OMS = "Oral and maxillofacial surgery"
OTHER_SPECIALTIES = [
    "Periodontics", "Endodontics", "Orthodontics", "Prosthodontics", "Pediatric dentistry",
    "General dentistry",
]  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """What an invented MSO is like; the generator turns it into rows."""

    name: str
    ownership: str
    specialties: tuple  # one item means single specialty
    autonomy_terms: str
    values: str
    services: int  # how many service areas it offers
    nps: tuple  # target patient NPS at the start and at the end of the six years
    size: float  # relative share of the practices
    trust: float  # how its surgeon partners feel about it, 1 to 5
    autonomy: float  # clinical autonomy they experience, 1 to 5
    accredited: float  # share of its practices that hold accreditations
    age: int  # years since founding, at the as-of date
    spread: float = 7.0  # how far its practices' NPS stray from its own
    role: str = ""  # "sparse": too few responses to score; "few_interviews"
    claims: tuple = ()  # (kind, parameters, statement)
    self_reported: tuple = ()  # (promoters, passives, detractors) per latest 12 months
    website: bool = True


# The first five are the tiny scale: they cover every ownership model, both
# specialty focuses, a world-class, an average, a declining and a too-small MSO.
PROFILES = [
    Profile(
        name="Quillmoor Surgical Partners",
        ownership=OwnershipModel.PARTNERSHIP_EQUITY,
        specialties=(OMS,),
        autonomy_terms="Clinical decisions, scheduling and referral relationships stay with "
        "the surgeon partners. The MSO may not set production targets.",
        values="Surgeon-led, patient first, no surprises.",
        services=9, nps=(87, 88), size=1.2, trust=4.5, autonomy=4.6, accredited=0.6, age=14,
        spread=2.5,
        claims=(
            (ClaimKind.NPS_ABOVE_EACH_YEAR, {"threshold": 80, "years": 3},
             "Our partner practices have had a patient NPS above 80 every year for three years."),
            (ClaimKind.ACCREDITED_PRACTICES, {"count": 4},
             "At least four of our practices are accredited."),
            (ClaimKind.SINGLE_SPECIALTY, {},
             "We work exclusively with oral and maxillofacial surgeons."),
        ),
    ),
    Profile(
        name="Fernhollow Oral Surgery Alliance",
        ownership=OwnershipModel.JOINT_VENTURE,
        specialties=(OMS,),
        autonomy_terms="Clinical protocols are agreed by a joint clinical committee; "
        "each surgeon keeps the final word on treatment.",
        values="Shared ownership, shared decisions.",
        services=6, nps=(44, 48), size=1.5, trust=3.4, autonomy=3.8, accredited=0.3, age=11,
        claims=(
            (ClaimKind.NPS_ABOVE_12_MONTHS, {"threshold": 70},
             "Patients rate our practices above 70 NPS."),
            (ClaimKind.OTHER, {},
             "Every partner practice has a dedicated regional operations lead."),
        ),
        self_reported=((780, 150, 70),),
    ),
    Profile(
        name="Brindlecove Specialty Group",
        ownership=OwnershipModel.FULL_ACQUISITION,
        specialties=(OMS, "Periodontics", "Endodontics", "Orthodontics"),
        autonomy_terms="Surgeons are employed after the acquisition; clinical guidelines, "
        "supplies and schedules are set centrally.",
        values="Scale brings excellence.",
        services=11, nps=(72, 18), size=1.3, trust=2.4, autonomy=2.0, accredited=0.25, age=12,
        spread=5.0,
        claims=(
            (ClaimKind.NPS_ABOVE_EACH_YEAR, {"threshold": 80, "years": 3},
             "Patients love our practices: NPS above 80, year after year."),
            (ClaimKind.FULL_AUTONOMY, {},
             "Surgeons keep complete clinical autonomy."),
        ),
        self_reported=((880, 90, 30), (860, 100, 40)),
    ),
    Profile(
        name="Larkspire OMS Collective",
        ownership=OwnershipModel.MINORITY_INVESTMENT,
        specialties=(OMS,),
        autonomy_terms="The investor holds a minority stake and has no say in clinical matters.",
        values="Small on purpose.",
        services=4, nps=(60, 62), size=0, trust=4.0, autonomy=4.4, accredited=0.5, age=3,
        role="sparse",
        claims=(
            (ClaimKind.FULL_AUTONOMY, {}, "Clinical decisions stay with the surgeon, always."),
        ),
        website=False,
    ),
    Profile(
        name="Thistlebrook Dental Specialists",
        ownership=OwnershipModel.FULL_ACQUISITION,
        specialties=(OMS, "Periodontics", "Prosthodontics"),
        autonomy_terms="Treatment plans above a set value need a second opinion from a "
        "regional clinical director.",
        values="One standard of care in every office.",
        services=10, nps=(38, 42), size=1.0, trust=2.9, autonomy=2.6, accredited=0.2, age=10,
        role="few_interviews",
        claims=(
            (ClaimKind.SINGLE_SPECIALTY, {}, "Oral surgery is our sole focus."),
        ),
    ),
    Profile(
        name="Ambervale Surgical Partners",
        ownership=OwnershipModel.PARTNERSHIP_EQUITY,
        specialties=(OMS,),
        autonomy_terms="Surgeon partners elect the clinical board; the MSO runs only "
        "non-clinical operations.",
        values="Get better every year.",
        services=8, nps=(35, 64), size=0.9, trust=3.9, autonomy=4.2, accredited=0.35, age=9,
        claims=(
            (ClaimKind.NPS_ABOVE_12_MONTHS, {"threshold": 55},
             "Our patient NPS over the last year is above 55."),
        ),
    ),
    Profile(
        name="Corvane Specialty Partners",
        ownership=OwnershipModel.JOINT_VENTURE,
        specialties=(OMS, "Periodontics", "Pediatric dentistry"),
        autonomy_terms="Each joint venture keeps its own clinical protocols.",
        values="Local practices, shared strength.",
        services=7, nps=(50, 52), size=1.0, trust=3.5, autonomy=3.6, accredited=0.3, age=13,
        website=False,
    ),
    Profile(
        name="Wrenfield OMS Partners",
        ownership=OwnershipModel.PARTNERSHIP_EQUITY,
        specialties=(OMS,),
        autonomy_terms="Surgeons keep their clinical autonomy; purchasing of implants follows "
        "a group formulary.",
        values="Partners, not employees.",
        services=9, nps=(55, 58), size=0.8, trust=4.0, autonomy=4.3, accredited=0.45, age=16,
        claims=(
            (ClaimKind.ACCREDITED_PRACTICES, {"count": 4},
             "At least four of our practices hold a current accreditation."),
        ),
    ),
    Profile(
        name="Pellwick Oral Surgery Network",
        ownership=OwnershipModel.MINORITY_INVESTMENT,
        specialties=(OMS,),
        autonomy_terms="Minority investment only: the practice keeps full control of "
        "clinical and most business decisions.",
        values="You run your practice; we help when asked.",
        services=3, nps=(46, 44), size=0.6, trust=3.6, autonomy=4.7, accredited=0.25, age=18,
        claims=(
            (ClaimKind.FULL_AUTONOMY, {}, "Minority investment means you keep full autonomy."),
        ),
    ),
    Profile(
        name="Oxbell Multispecialty Alliance",
        ownership=OwnershipModel.FULL_ACQUISITION,
        specialties=(OMS, "Endodontics", "Orthodontics", "General dentistry"),
        autonomy_terms="Clinical staffing, hours and fee schedules are set by the MSO.",
        values="Efficiency for every specialty.",
        services=11, nps=(30, 26), size=1.4, trust=2.7, autonomy=2.2, accredited=0.15, age=20,
        claims=(
            (ClaimKind.ACCREDITED_PRACTICES, {"count": 20},
             "Twenty of our practices are accredited."),
        ),
    ),
    Profile(
        name="Tamberlin Specialty Care Partners",
        ownership=OwnershipModel.MINORITY_INVESTMENT,
        specialties=(OMS, "Periodontics"),
        autonomy_terms="The practice decides on treatment; the MSO holds a veto on "
        "capital spending only.",
        values="Grow together, carefully.",
        services=5, nps=(45, 50), size=0.7, trust=3.3, autonomy=4.0, accredited=0.3, age=10,
        claims=(
            (ClaimKind.OTHER, {}, "Partners see revenue grow within the first year."),
        ),
    ),
    Profile(
        name="Vellichor Surgical Group",
        ownership=OwnershipModel.JOINT_VENTURE,
        specialties=(OMS,),
        autonomy_terms="Clinical autonomy is written into the operating agreement; changes "
        "need a two-thirds vote of surgeon members.",
        values="Quiet excellence.",
        services=7, nps=(64, 68), size=0.8, trust=4.1, autonomy=3.9, accredited=0.4, age=15,
    ),
]  # fmt: skip

# Invented words for the MSOs of the larger scales.
GENERATED_PREFIXES = [
    "Aldermoss", "Bramblecourt", "Cindervale", "Dovecrest", "Embermoor", "Foxmere",
    "Glimmerton", "Hazelrune", "Ivorwick", "Juniperra", "Kestrelund", "Lindenhollow",
    "Moonfallow", "Nettlebury", "Orrisdale", "Pipermoss", "Quenbury", "Rookhallow",
    "Saffronmere", "Tidewhistle", "Umberlane", "Vesperwood", "Willowmarch", "Yarrowgate",
    "Zephyrine", "Ashcombe", "Briarquill", "Copperlark", "Dunmerrow", "Elmsworthy",
    "Fallowmist", "Greywhistle",
]  # fmt: skip
# Second words for when the prefixes alone run out (the large scale): "Foxmere Harbor ...".
GENERATED_QUALIFIERS = [
    "Coastal", "Valley", "Highland", "Prairie", "Lakeshore", "Summit", "Harbor", "Meadow",
    "Canyon", "Riverbend",
]  # fmt: skip
SINGLE_SUFFIXES = ["Surgical Partners", "Oral Surgery Alliance", "OMS Collective"]
MULTI_SUFFIXES = ["Specialty Group", "Specialty Partners", "Dental Specialists"]
GENERATED_TERMS = [
    "Surgeons keep clinical decisions; the MSO runs billing and purchasing.",
    "Clinical protocols are set by a committee of surgeon partners.",
    "Surgeons are employed; clinical guidelines are set centrally.",
    "The investor has no say in clinical matters.",
]
GENERATED_VALUES = ["Patients first.", "Surgeon-led growth.", "Quality you can measure."]

# Invented town names: syllables that rarely make a real place.
TOWN_STARTS = [
    "Bram", "Cal", "Dun", "Elm", "Fen", "Gal", "Hol", "Ives", "Kel", "Lor", "Mar", "Nor",
    "Orr", "Pem", "Quen", "Ros", "Sel", "Tarn", "Ul", "Ven", "Wex", "Yar", "Zel",
]  # fmt: skip
TOWN_ENDS = [
    "bridge", "by", "cliff", "dale", "ford", "gate", "haven", "holt", "mere", "moor",
    "port", "ridge", "stead", "ton", "vale", "wick", "worth",
]  # fmt: skip
PRACTICE_KINDS = [
    "Oral Surgery", "Oral Surgery", "Oral Surgery", "Oral & Facial Surgery",
    "Oral and Maxillofacial Surgery", "Facial & Implant Surgery",
]  # fmt: skip

FIRST_NAMES = [
    "Maya", "Daniel", "Priya", "Marcus", "Elena", "Samuel", "Grace", "Tomas", "Aisha",
    "Jonah", "Leah", "Victor", "Nora", "Isaac", "Hana", "Felix", "Ruth", "Omar", "Clara",
    "Peter", "Ines", "Caleb", "Mira", "Owen", "Talia", "Hugo", "Esther", "Rafael",
]  # fmt: skip
LAST_NAMES = [
    "Ashdown", "Brackwell", "Castellane", "Dunmore", "Everly", "Fairbank", "Galloway",
    "Hartigan", "Iverson", "Jessop", "Kingsley", "Lowther", "Marchetti", "Northcote",
    "Okafor", "Pennington", "Quaile", "Rowntree", "Sandoval", "Thackery", "Underhill",
    "Valcourt", "Whitlock", "Yardley", "Zabini", "Holloway", "Merriman", "Tennant",
]  # fmt: skip
INTERVIEWERS = ["Jordan Vale", "Priya Castellano", "Sam Wexford", "Elena Moritz"]

PROMISED = [
    "We were promised a full marketing program within three months.",
    "They said payor contracts would be renegotiated in the first year.",
    "HR and recruiting would be taken off our hands.",
    "A new practice management system with central support.",
    "Capital for a second operatory and a CBCT scanner.",
    "Billing and collections handled by a dedicated revenue cycle team.",
    "Continuing education and training for the whole staff.",
    "Help to open a satellite office within two years.",
]
DELIVERED = {
    "good": [
        "Most of it arrived on time and works well.",
        "Collections went up and the staff turnover went down.",
        "The support team answers the same day.",
        "They delivered what they said, sometimes more.",
    ],
    "mixed": [
        "Some of it came, but later than promised.",
        "Marketing is fine; payor contracting is still pending.",
        "The new software took a year to settle.",
        "Support depends a lot on who picks up the phone.",
    ],
    "poor": [
        "Little of it happened; we still do our own hiring.",
        "Fees went up while the services stayed the same.",
        "Decisions are made far away without asking us.",
        "The equipment funding never came through.",
    ],
}
ADVICE = [
    "Read the autonomy clause twice and have your own lawyer read it too.",
    "Talk to surgeons who left, not just the ones the MSO picks.",
    "Ask for the patient survey data itself, not a summary slide.",
    "Get the service commitments written into the contract with dates.",
    "Check who decides on staffing and supplies after closing.",
    "Do not sign until you have met the people who will support you day to day.",
]
PROMISE_NOTES = {
    PromiseOutcome.KEPT: ["Delivered as described.", "Better than expected.", "On time."],
    PromiseOutcome.PARTLY: ["Started well, then stalled.", "Late, but mostly there."],
    PromiseOutcome.BROKEN: ["Never happened.", "Quietly dropped after closing."],
}
SERVICE_DETAILS = {
    ServiceArea.MARKETING: "Central team for campaigns, website and referral outreach.",
    ServiceArea.HR: "Payroll, benefits and hiring support.",
    ServiceArea.REVENUE_CYCLE: "Billing, coding and collections.",
    ServiceArea.PAYOR_CONTRACTING: "Negotiates fee schedules with insurers for the group.",
    ServiceArea.IT_SYSTEMS: "Practice management software, imaging and help desk.",
    ServiceArea.COMPLIANCE: "Policies, audits and regulatory updates.",
    ServiceArea.PURCHASING: "Group purchasing of supplies and implants.",
    ServiceArea.EQUIPMENT_FUNDING: "Capital for equipment and technology.",
    ServiceArea.GROWTH: "De novo offices and acquisitions.",
    ServiceArea.RECRUITING: "Associate surgeon and staff recruiting.",
    ServiceArea.TRAINING: "Continuing education and staff training.",
}
COMMENTS = {
    "promoter": [
        "The staff were kind and explained everything.",
        "Quick visit, and the surgeon called the next day.",
        "Very clean office and friendly front desk.",
    ],
    "passive": [
        "Good care, but the wait was long.",
        "Fine overall; parking was hard to find.",
    ],
    "detractor": [
        "I waited over an hour past my appointment time.",
        "Nobody called back about my bill.",
        "The front desk was rushed and unfriendly.",
    ],
}
# Score lists with repeats: a cheap way to draw with weights inside each NPS group.
DETRACTOR_SCORES = [0, 1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6]
PASSIVE_SCORES = [7, 7, 7, 7, 8, 8, 8, 8, 8]
PROMOTER_SCORES = [9, 9, 9, 9, 10, 10, 10, 10, 10, 10]

ACCREDITATION_TERMS = {
    # AAAHC awards 3-year, 1-year or 6-month terms; the others get 3 years in the demo.
    AccreditationBody.AAAHC: [36, 36, 36, 36, 36, 36, 12, 12, 6],
    AccreditationBody.JOINT_COMMISSION: [36],
    AccreditationBody.AAOMS_OAAP: [36],
}
