"""The Chinese-aware comparison of two texts (pure: no database)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from baosong.submissions.diff import Diff, Row, Segment, as_json, compare, tokenize


def marked(diff: Diff, side: str, op: str) -> list[str]:
    rows: list[Row] = list(diff.rows)
    segments = [s for row in rows for s in (getattr(row, side) or ())]
    return [s.text for s in segments if s.op == op]


def test_inserting_a_word_into_a_chinese_sentence_marks_only_that_word() -> None:
    diff = compare("扎实推进基层党建工作", "扎实推进农村基层党建工作")
    assert [row.op for row in diff.rows] == ["replace"]
    assert marked(diff, "right", "insert") == ["农村"]
    assert marked(diff, "left", "delete") == []
    assert marked(diff, "left", "replace") == marked(diff, "right", "replace") == []
    assert "".join(marked(diff, "right", "equal")) == "扎实推进基层党建工作"


def test_deleting_a_chinese_word_marks_only_that_word() -> None:
    diff = compare("今年以来全县共组织专题培训十二期", "今年以来共组织专题培训十二期")
    assert marked(diff, "left", "delete") == ["全县"]
    assert marked(diff, "right", "insert") == []


def test_a_changed_word_is_shown_as_replaced_whole_not_as_scattered_characters() -> None:
    diff = compare("安平县委组织部今年以来狠抓落实", "安平县委宣传部今年以来狠抓落实")
    assert marked(diff, "left", "replace") == ["组织部"]
    assert marked(diff, "right", "replace") == ["宣传部"]


def test_punctuation_changes_are_marked_on_their_own() -> None:
    diff = compare("今天，我们召开会议。", "今天我们召开会议！")
    assert marked(diff, "left", "delete") == ["，"]
    assert marked(diff, "left", "replace") == ["。"]
    assert marked(diff, "right", "replace") == ["！"]
    assert "我们召开会议" in "".join(marked(diff, "right", "equal"))


def test_ascii_words_stay_whole() -> None:
    tokens = tokenize("用 WeChat 公众号发布2026年工作要点（v2.1）")
    assert "".join(tokens) == "用 WeChat 公众号发布2026年工作要点（v2.1）"
    assert {"WeChat", "2026", "v2", ".", "1", "（", "）", " "} <= set(tokens)
    diff = compare("hello world", "hello brave world")
    assert marked(diff, "right", "insert") == ["brave "]


def test_an_added_paragraph_is_its_own_row_and_the_others_stay_equal() -> None:
    diff = compare("第一段。\n第二段。", "第一段。\n新增的一段。\n第二段。")
    assert [row.op for row in diff.rows] == ["equal", "insert", "equal"]
    added = diff.rows[1]
    assert added.left is None and added.right == (Segment("insert", "新增的一段。"),)
    assert (added.left_number, added.right_number) == (None, 2)
    assert (diff.rows[2].left_number, diff.rows[2].right_number) == (2, 3)


def test_a_removed_paragraph_is_its_own_row() -> None:
    diff = compare("第一段。\n第二段。\n第三段。", "第一段。\n第三段。")
    assert [row.op for row in diff.rows] == ["equal", "delete", "equal"]
    assert diff.rows[1].right is None
    assert diff.rows[1].left == (Segment("delete", "第二段。"),)


def test_an_edited_paragraph_is_aligned_with_its_new_form_among_other_changes() -> None:
    old = "开头。\n组织开展党员冬训工作，参训党员两千余人。\n结尾。"
    new = "开头。\n另起一段说明背景。\n组织开展党员冬训工作，参训党员三千余人。\n结尾。"
    diff = compare(old, new)
    assert [row.op for row in diff.rows] == ["equal", "insert", "replace", "equal"]
    assert marked(diff, "right", "insert") == ["另起一段说明背景。"]
    assert marked(diff, "left", "replace") == ["两"]
    assert marked(diff, "right", "replace") == ["三"]


def test_identical_texts_have_no_changes() -> None:
    text = "第一段。\n第二段，有标点和 English。"
    diff = compare(text, text)
    assert not diff.changed
    assert all(row.op == "equal" for row in diff.rows)
    assert compare("", "").rows == ()


def test_the_json_form_keeps_rows_sides_and_numbers() -> None:
    rows = as_json(compare("第一段\n第二段", "第一段\n新段\n第二段"))
    assert rows[1] == {
        "op": "insert",
        "left": None,
        "right": [{"op": "insert", "text": "新段"}],
        "left_number": None,
        "right_number": 2,
    }
    assert rows[0]["left"] == rows[0]["right"] == [{"op": "equal", "text": "第一段"}]


def test_the_comparison_is_deterministic() -> None:
    a, b = "扎实推进基层党建工作\n第二段", "扎实推进农村基层党建工作\n第二段有改动"
    assert compare(a, b) == compare(a, b)


texts = st.lists(
    st.one_of(
        st.sampled_from(
            ["党建", "工作", "基层", "农村", "扎实推进", "。", "，", "\n", " ", "abc", "2026", "、"]
        ),
        st.text(alphabet="甲乙丙丁的了是在有\n ，。！x1", max_size=6),
        st.text(max_size=4),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_no_text_is_lost_each_side_rebuilds_its_version_exactly(a: str, b: str) -> None:
    diff = compare(a, b)
    assert diff.side("left") == a
    assert diff.side("right") == b
    for row in diff.rows:
        left_equal = "".join(s.text for s in row.left or () if s.op == "equal")
        right_equal = "".join(s.text for s in row.right or () if s.op == "equal")
        assert left_equal == right_equal
        assert all(s.op in ("equal", "delete", "replace") for s in row.left or ())
        assert all(s.op in ("equal", "insert", "replace") for s in row.right or ())


@settings(max_examples=100, deadline=None)
@given(texts)
def test_a_text_compared_with_itself_is_all_equal(a: str) -> None:
    assert not compare(a, a).changed
