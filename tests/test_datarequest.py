"""Questions about the person's own data get the privacy notice, in every shipped language."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.matching.datarequest import MOST_WORDS, asks_about_own_data
from bot.text import normalise

ABOUT_MY_DATA = [
    "how do I delete my data",
    "Can you erase everything about me and my messages?",
    "do you store my messages",
    "is my information private",
    "supprimer mes données svp",
    "vous gardez mes informations ?",
    "est-ce que mes données sont sécurisées",
    "quiero borrar mis datos",
    "apagar meus dados",
    "burahin ang data ko",
    "удалите мои данные",
    "видаліть мої дані",
    "احذف بياناتي",
    "هل تحتفظون بمعلوماتي",
    "اطلاعات من را حذف کنید",
    "میرا ڈیٹا ڈیلیٹ کریں",
    "मेरा डेटा डिलीट करो",
    "meri jankari delete karo",
    "ਮੇਰਾ ਡਾਟਾ ਡਿਲੀਟ ਕਰੋ",
    "என் தகவலை நீக்குங்கள்",
    "删除我的聊天记录",
    "你们保存我的信息吗",
]

# Questions about services that name data, information, removal, safety or keeping.
ABOUT_SOMETHING_ELSE = [
    "where can I get information about snow removal",
    "I need clear information on housing",
    "what is the cheapest data plan for phones",
    "information about daycare",
    "how do I delete my facebook account",
    "tiene información de guardería",
    "vous avez des informations pour vendredi",
    "پاکستان سے کاغذات کی معلومات",
    "can you give me information about OHIP",
    "my social security information from the US",
    "do you have information about private schools",
    "is it safe to walk at night in Oshawa",
    "",
]


@pytest.mark.parametrize("text", ABOUT_MY_DATA)
def test_a_question_about_my_data_is_read_as_one(text: str) -> None:
    assert asks_about_own_data(text)


@pytest.mark.parametrize("text", ABOUT_SOMETHING_ELSE)
def test_a_question_that_only_names_data_is_not(text: str) -> None:
    assert not asks_about_own_data(text)


def test_a_long_message_is_a_question_about_something_else() -> None:
    long = "my employer asked for my personal information " + "and more " * MOST_WORDS
    assert not asks_about_own_data("delete my data " + long)


@given(st.text(max_size=300))
def test_any_text_gets_a_yes_or_no(text: str) -> None:
    assert asks_about_own_data(text) in (True, False)


@given(
    st.sampled_from(ABOUT_MY_DATA),
    st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=2 * MOST_WORDS),
)
@example("est-ce que mes données sont sécurisées", ["a"] * 10)  # 16 spaced, 17 read
def test_more_words_keep_the_question_until_it_is_too_long(question: str, extra: list[str]) -> None:
    # Every rule asks whether some stem is present, so words added after a question about
    # one's data never take it away; only the length limit does, counted in the words the bot
    # reads ("est-ce" is two of them).
    text = " ".join([question, *extra])
    assert asks_about_own_data(text) is (len(normalise(text).split()) <= MOST_WORDS)
