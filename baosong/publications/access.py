"""Who may handle items at a receiving unit, manage publications, and read outcomes.

- Editors (编辑) of a unit act on the items submitted or forwarded to that unit (their receipts),
  manage the unit's publications and compose its issues; a unit admin may also set up publications.
- An origin unit's members see the outcomes (adoptions, instructions) of their own unit's items,
  and unit admins see those of their subtree; a sibling never sees another unit's items.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from baosong.orgs.access import _paths_q, scope_for, visible_units
from baosong.orgs.models import Role, Unit, User
from baosong.publications.models import Adoption, Issue, Publication
from baosong.submissions.models import Addressee, Status, Submission


def editor_unit_ids(user: User) -> list[int]:
    return scope_for(user).units_with(Role.EDITOR)


def get_receipt_for(user: User, item_pk: int) -> Addressee:
    """The user's unit's receipt of a submitted item (404 when the item did not reach it)."""
    receipt = (
        Addressee.objects.select_related("submission__unit", "unit", "claimed_by", "forwarded_from")
        .filter(
            submission_id=item_pk,
            unit_id__in=editor_unit_ids(user),
            submission__status=Status.SUBMITTED,
        )
        .order_by("unit__depth")
        .last()
    )
    if receipt is None:
        raise Http404("receipt")
    return receipt


def receipts_of(user: User) -> QuerySet[Addressee]:
    return Addressee.objects.filter(
        unit_id__in=editor_unit_ids(user), submission__status=Status.SUBMITTED
    )


def can_manage_publications(user: User, unit: Unit) -> bool:
    held = scope_for(user).unit_roles.get(unit.pk, set())
    return bool(held.intersection({Role.EDITOR, Role.UNIT_ADMIN}))


def publications_for(user: User) -> QuerySet[Publication]:
    units = scope_for(user).units_with(Role.EDITOR, Role.UNIT_ADMIN)
    return Publication.objects.filter(unit_id__in=units)


def get_publication_for(user: User, pk: int) -> Publication:
    try:
        return publications_for(user).select_related("unit").get(pk=pk)
    except (Publication.DoesNotExist, ValueError) as exc:
        raise Http404("publication") from exc


def get_issue_for(user: User, pk: int) -> Issue:
    try:
        return (
            Issue.objects.select_related("publication__unit")
            .filter(publication__in=publications_for(user))
            .get(pk=pk)
        )
    except (Issue.DoesNotExist, ValueError) as exc:
        raise Http404("issue") from exc


def get_adoption_for(user: User, pk: int, need: str = "view") -> Adoption:
    """An adoption of the user's unit (editors act on it); the origin may only view outcomes."""
    try:
        adoption = Adoption.objects.select_related("unit", "publication", "issue").get(pk=pk)
    except (Adoption.DoesNotExist, ValueError) as exc:
        raise Http404("adoption") from exc
    if adoption.unit_id in editor_unit_ids(user):
        return adoption
    if need == "view" and outcome_items(user).filter(adoption_sources__adoption=adoption).exists():
        return adoption
    if need != "view" and outcome_items(user).filter(adoption_sources__adoption=adoption).exists():
        raise PermissionDenied(gettext("只有采用单位的编辑可以办理。"))
    raise Http404("adoption")


def outcome_units(user: User) -> QuerySet[Unit]:
    """Units whose items' outcomes the user may read: own units, and the subtree of admins."""
    scope = scope_for(user)
    condition = Q(pk__in=list(scope.unit_roles))
    if scope.admin_paths:
        condition |= _paths_q("path", scope.admin_paths)
    return Unit.objects.filter(condition)


def outcome_items(user: User) -> QuerySet[Submission]:
    """Items whose feedback (where they went, adoptions, instructions) the user may read."""
    return Submission.objects.filter(unit__in=outcome_units(user)).exclude(status=Status.DRAFT)


def get_feedback_unit_for(user: User, pk: int) -> Unit:
    try:
        return outcome_units(user).get(pk=pk)
    except (Unit.DoesNotExist, ValueError) as exc:
        if visible_units(user).filter(pk=pk).exists():
            raise PermissionDenied(gettext("只能查看本单位及所管理单位的采用情况。")) from exc
        raise Http404("unit") from exc
