import string

from hypothesis import assume, given
from hypothesis import strategies as st

from shared.hashing import canonical_summary, summary_hash, text_hash

words = st.lists(
    st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=8),
    min_size=1,
    max_size=12,
)


def _join(ws: list[str], seps: list[str]) -> str:
    out = ws[0]
    for w, sep in zip(ws[1:], seps, strict=False):
        out += sep + w
    return out


@given(words, st.data())
def test_cosmetic_edits_keep_summary_hash(ws: list[str], data: st.DataObject) -> None:
    plain = " ".join(ws)
    seps = data.draw(
        st.lists(
            st.sampled_from([" ", "  ", "\n", ", ", " - ", "\t", "! "]),
            min_size=len(ws),
            max_size=len(ws),
        )
    )
    cosmetic = _join([w.upper() if i % 2 else w for i, w in enumerate(ws)], seps)
    wrapped = data.draw(
        st.sampled_from(["{}", "<p>{}</p>", "**{}**", "_{}_", "  {}?!  ", "<b>{}</b>."])
    )
    assert summary_hash(wrapped.format(cosmetic)) == summary_hash(plain)


@given(words, st.data())
def test_real_edits_change_summary_and_text_hash(ws: list[str], data: st.DataObject) -> None:
    plain = " ".join(ws)
    index = data.draw(st.integers(0, len(plain) - 1))
    assume(plain[index] != " ")
    replacement = data.draw(st.sampled_from(string.ascii_lowercase + string.digits))
    assume(replacement != plain[index])
    edited = plain[:index] + replacement + plain[index + 1 :]
    assert summary_hash(edited) != summary_hash(plain)
    assert text_hash(edited) != text_hash(plain)


@given(st.text(max_size=200))
def test_text_hash_ignores_case_and_outer_whitespace(text: str) -> None:
    assert text_hash(f"  {text}\n") == text_hash(text)
    assert text_hash(text.casefold()) == text_hash(text)


def test_text_hash_keeps_punctuation_but_summary_does_not() -> None:
    assert text_hash("The sky is blue.") != text_hash("The sky is blue")
    assert summary_hash("The sky is blue.") == summary_hash("the SKY is   *blue*")


def test_combining_marks_are_kept() -> None:
    # Devanagari vowel signs are category M: dropping them would merge different words.
    assert canonical_summary("सत्य") != canonical_summary("सतय")
    assert summary_hash("कमल") != summary_hash("कमाल")


def test_hashes_are_sha256_hex() -> None:
    for h in (text_hash("x"), summary_hash("x")):
        assert len(h) == 64 and set(h) <= set("0123456789abcdef")
