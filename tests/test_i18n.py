"""English as the second interface language: a complete catalog, compiled, and used by the pages.

The Chinese text in the code is the msgid; baosong/locale/en holds the English translation. The
catalog checks are pure Python, so they run where GNU gettext is not installed.
"""

import ast
import gettext
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from baosong.audit.models import Event
from baosong.orgs import registers
from baosong.orgs.models import Unit
from conftest import World, client_for

LOCALE = Path(settings.BASE_DIR) / "baosong" / "locale" / "en" / "LC_MESSAGES"
PO_FILE = LOCALE / "django.po"
MO_FILE = LOCALE / "django.mo"
TEMPLATE_DIRS = sorted((Path(settings.BASE_DIR) / "baosong").glob("**/templates"))
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdfr]")


@dataclass
class Entry:
    context: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        return f"{self.context}\x04{self.msgid}" if self.context is not None else self.msgid


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader: contexts, plurals, flags and continued strings; enough for our file."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            entry.context, target = ast.literal_eval(line[8:]), ("msgctxt", 0)
        elif line.startswith("msgid_plural "):
            entry.msgid_plural, target = ast.literal_eval(line[13:]), ("msgid_plural", 0)
        elif line.startswith("msgid "):
            entry.msgid, entry.line, target = ast.literal_eval(line[6:]), number, ("msgid", 0)
        elif line.startswith("msgstr["):
            index = int(line[7 : line.index("]")])
            entry.msgstr[index] = ast.literal_eval(line[line.index("]") + 2 :])
            target = ("msgstr", index)
        elif line.startswith("msgstr "):
            entry.msgstr[0], target = ast.literal_eval(line[7:]), ("msgstr", 0)
        elif line.startswith('"') and target is not None:
            part: str = ast.literal_eval(line)
            name, index = target
            if name == "msgctxt":
                entry.context = (entry.context or "") + part
            elif name == "msgid":
                entry.msgid += part
            elif name == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + part
            else:
                entry.msgstr[index] += part
    finish()
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    return parse_po(PO_FILE)


@pytest.fixture(autouse=True)
def _back_to_default_language() -> Iterator[None]:
    # A request in English leaves English active in this thread; later tests expect the default.
    yield
    translation.deactivate()


def english(client: Client) -> Client:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


# The catalog ------------------------------------------------------------------------------------


def test_english_catalog_has_every_entry_translated_and_none_fuzzy(
    po_entries: list[Entry],
) -> None:
    header, messages = po_entries[0], po_entries[1:]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert "Language: en" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]
    assert len(messages) > 300
    untranslated = [e.msgid for e in messages if not e.msgstr.get(0)]
    untranslated += [e.msgid for e in messages if e.msgid_plural and not e.msgstr.get(1)]
    fuzzy = [e.msgid for e in messages if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_english_catalog_has_no_duplicate_entries(po_entries: list[Entry]) -> None:
    keys = [e.key for e in po_entries[1:]]
    assert len(keys) == len(set(keys))


def test_english_translations_keep_every_placeholder_and_drop_the_chinese(
    po_entries: list[Entry],
) -> None:
    # The register's sheet, column, level and role names stay Chinese in English help texts:
    # they are the words the uploaded file must contain.
    register_words = sorted(
        {
            registers.UNIT_SHEET,
            registers.PERSON_SHEET,
            *registers.UNIT_COLUMNS,
            *registers.PERSON_COLUMNS,
            *registers.LEVEL_BY_LABEL,
            *registers.ROLE_BY_LABEL,
        },
        key=len,
        reverse=True,
    )
    problems = []
    for e in po_entries[1:]:
        wanted = set(PLACEHOLDER.findall(e.msgid))
        for text in e.msgstr.values():
            if set(PLACEHOLDER.findall(text)) != wanted:
                problems.append((e.msgid, text))
            for word in register_words:
                text = text.replace(word, "")
            if CHINESE.search(text):
                problems.append((e.msgid, text))
    assert problems == []


def test_compiled_catalog_matches_the_po_file(po_entries: list[Entry]) -> None:
    with MO_FILE.open("rb") as fp:
        compiled = gettext.GNUTranslations(fp)
    catalog: dict[str | tuple[str, int], str] = compiled._catalog  # type: ignore[attr-defined]
    stale = []
    for e in po_entries[1:]:
        if e.msgid_plural is None:
            if catalog.get(e.key) != e.msgstr[0]:
                stale.append(e.msgid)
        else:
            for index, text in e.msgstr.items():
                if catalog.get((e.key, index)) != text:
                    stale.append(e.msgid)
    compiled_ids = {k if isinstance(k, str) else k[0] for k in catalog} - {""}
    extra = compiled_ids - {e.key for e in po_entries[1:]}
    assert stale == [], "run `make messages` (compilemessages) after editing django.po"
    assert extra == set(), "django.mo has entries django.po no longer has; recompile it"


def test_templates_have_no_chinese_text_outside_translation_tags() -> None:
    tags = re.compile(
        r"\{%\s*translate\s.*?%\}"
        r"|\{%\s*blocktranslate\b.*?%\}.*?\{%\s*endblocktranslate\s*%\}"
        r"|\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|<style.*?</style>|/\*.*?\*/|font-family:[^;}]*",
        re.S,
    )
    allowed = (
        '<span class="brand-mark">报</span>',  # the logo glyph
        'aria-label="Language / 语言"',  # the language switch speaks both languages
        "<td>单位</td>",  # register sheet names: the words the uploaded file must use
        "<td>人员</td>",
    )
    found = []
    for folder in TEMPLATE_DIRS:
        for path in sorted(folder.glob("**/*.html")):
            text = tags.sub("", path.read_text(encoding="utf-8"))
            for fragment in allowed:
                text = text.replace(fragment, "")
            found += [
                f"{path.name}: {line.strip()}" for line in text.splitlines() if CHINESE.search(line)
            ]
    assert found == []


# The pages --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_is_chinese_without_a_language_choice() -> None:
    response = Client().get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in html
    assert "登录报送平台" in html
    assert "登录名" in html
    assert "Sign in" not in html


@pytest.mark.django_db
def test_login_page_is_english_after_choosing_english() -> None:
    client = english(Client())
    html = client.get("/login/").content.decode()
    assert '<html lang="en">' in html
    assert "Sign in to Baosong" in html
    assert "Login name" in html
    assert "Password" in html
    assert "Five wrong attempts in a row lock sign-in for 15 minutes." in html
    for chinese in ("登录报送平台", "登录名", "密码", "连续 5 次"):
        assert chinese not in html


def test_unit_admin_home_is_english_after_choosing_english(world: World) -> None:
    client = english(client_for(world.unit_admin_city))
    html = client.get("/").content.decode()
    assert "Hello, unit_admin_city" in html
    assert "Dashboard" in html
    assert "Units I manage" in html
    assert "People register" in html
    assert "Unit admin" in html
    assert "Sign out" in html
    assert "Baosong" in html
    for chinese in (
        "工作台",
        "管理的单位",
        "人员台账",
        "单位管理员",
        "退出",
        "您好",
        "新建下级单位",
    ):
        assert chinese not in html
    # Names of units are data and stay as they were entered.
    assert "临江市委组织部" in html


def test_unit_admin_home_is_chinese_by_default(world: World) -> None:
    html = client_for(world.unit_admin_city).get("/").content.decode()
    assert "工作台" in html
    assert "管理的单位" in html
    assert "Dashboard" not in html


def test_unit_tree_is_english_after_choosing_english(world: World) -> None:
    client = english(client_for(world.unit_admin_city))
    html = client.get("/units/").content.decode()
    assert "Unit tree" in html
    assert "Find a unit" in html
    assert 'placeholder="Name, short name or code"' in html
    assert 'title="New child unit"' in html
    assert "City" in html and "County" in html
    assert ">Units</a>" in html
    for chinese in ("单位树", "查找单位", "名称、简称或编码", "新建下级单位", "市 ·", "县 ·"):
        assert chinese not in html


def test_unit_page_confirmation_is_english_and_safe_for_javascript(world: World) -> None:
    client = english(client_for(world.unit_admin_province))
    html = client.get(f"/units/{world.county_b.pk}/").content.decode()
    assert "return confirm('Deactivate this unit? All its history is kept.')" in html
    assert 'data-label="Name"' in html
    assert "确定停用" not in html


def test_workflow_refusal_is_shown_in_english_under_the_english_interface(world: World) -> None:
    client = english(client_for(world.unit_admin_city))
    events = Event.objects.filter(action="unit.create").count()
    response = client.post(
        f"/units/{world.city_a.pk}/new/",
        {
            "code": "CA1",
            "name": "重复单位",
            "short_name": "重复",
            "level": "county",
            "sort_order": 0,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Unit code “CA1” is already in use." in html
    assert "已被使用" not in html
    assert not Unit.objects.filter(name="重复单位").exists()
    assert Event.objects.filter(action="unit.create").count() == events


def test_workflow_refusal_stays_chinese_by_default(world: World) -> None:
    client = client_for(world.unit_admin_city)
    response = client.post(
        f"/units/{world.city_a.pk}/new/",
        {
            "code": "CA1",
            "name": "重复单位",
            "short_name": "重复",
            "level": "county",
            "sort_order": 0,
        },
    )
    assert "单位编码“CA1”已被使用。" in response.content.decode()
    assert not Unit.objects.filter(name="重复单位").exists()


def test_success_message_is_english_under_the_english_interface(world: World) -> None:
    client = english(client_for(world.unit_admin_city))
    response = client.post(
        f"/units/{world.city_a.pk}/new/",
        {
            "code": "CA9",
            "name": "中共新县委组织部",
            "short_name": "新县",
            "level": "county",
            "sort_order": 0,
        },
        follow=True,
    )
    unit = Unit.objects.get(code="CA9")
    assert "Unit “新县” created." in response.content.decode()
    assert unit.parent == world.city_a
    event = Event.objects.get(action="unit.create", object_id=str(unit.pk))
    assert event.actor_login == "unit_admin_city"
    # What the audit trail stores does not depend on the reader's language.
    assert event.object_repr == "中共新县委组织部"


def test_audit_log_labels_follow_the_interface_language(world: World) -> None:
    client = english(client_for(world.audit_admin))
    html = client.get("/audit/").content.decode()
    assert "Audit log" in html
    assert "Signed in" in html  # the audit admin's own sign-in, as an action label
    assert "All actions" in html
    assert "登录成功" not in html


def test_api_errors_follow_the_accept_language_header(db: None) -> None:
    response = Client().get("/api/v1/units", headers={"accept-language": "en"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Not signed in: send a personal token or sign in first."
    response = Client().get("/api/v1/units")
    assert response.json()["detail"] == "未登录：请提供个人令牌或先登录。"


def test_a_browser_set_to_english_still_gets_chinese_until_the_switch_is_used(db: None) -> None:
    from django.test import Client

    page = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/login/").content.decode()
    assert "登录" in page and "Sign in" not in page


def test_the_scheme_editor_names_the_engines_codes_in_english() -> None:
    from django.utils import translation

    from baosong.scoring import forms, labels

    for table, codes in labels.COVERED:
        assert set(codes) <= set(table)
    with translation.override("en"):
        form = forms.RulesForm()
        names = [row[0] for row in form.level_rows()] + [row[0] for row in form.kind_rows()]
        assert "Provincial" in names and "Information publication" in names, names
        assert not any("\u4e00" <= ch <= "\u9fff" for name in names for ch in name), names
    with translation.override("zh-hans"):
        assert [row[0] for row in forms.RulesForm().form_rows()] == [
            "全文",
            "摘编",
            "综合",
            "一句话",
        ]
