"""The engine's codes (levels, publication kinds, forms, item types and kinds, period grains) in the
user's language, for forms and pages. The engine's own Chinese labels stay where they belong: in the
rule texts it writes into ledger entries, which are records."""

from django.utils.translation import gettext_lazy as _

from baosong.publications.models import AdoptionForm, PublicationKind
from baosong.scoring import engine
from baosong.submissions.models import ItemType, Kind

LEVEL = {
    "central": _("中央"),
    "province": _("省级"),
    "city": _("市级"),
    "county": _("县级"),
    "township": _("乡镇"),
}
KIND = dict(PublicationKind.choices)
FORM = dict(AdoptionForm.choices)
ITEM_TYPE = dict(ItemType.choices)
ITEM_KIND = dict(Kind.choices)
GRAIN = {"week": _("周"), "month": _("月"), "quarter": _("季度"), "year": _("年度")}

# Every code the engine knows has a label here (checked by the tests).
COVERED = (
    (LEVEL, engine.LEVELS),
    (KIND, engine.PUBLICATION_KINDS),
    (FORM, engine.FORMS),
    (ITEM_TYPE, engine.ITEM_TYPES),
    (ITEM_KIND, engine.ITEM_KINDS),
    (GRAIN, engine.GRAINS),
)
