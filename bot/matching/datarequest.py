"""Questions about the person's own data: "how do I delete my data", "do you keep my messages".

The knowledge base answers questions about the region, not about the bot; such a question got
"Sorry, I do not know", and was itself logged as an emerging need: a request to erase data,
kept. The reply to it is the bot's own privacy notice (the catalogue's `privacy.text`, which
says what is kept and how `/forget` erases it).

A message asks about its writer's data when it is short and names both some data (data,
information, messages, history) and what happens to it: deleting, forgetting, privacy
("supprimer mes données", "borrar mis datos", "删除我的聊天记录"); or keeping, storing or
sharing it, said to the bot ("do you store my messages", "vous gardez mes informations").
Stems are matched at the start of a word in Latin and Cyrillic scripts, anywhere in a word
in the others (Arabic and Indic words take prefixes and suffixes: "وبياناتي", "தகவலை"), and
anywhere in the message for Chinese, written without spaces.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.text import normalise

# A longer message is a question about something else that mentions data ("my employer
# asked for my personal information and bank details for direct deposit, is that
# normal..."): the privacy questions in tests/test_datarequest.py have at most 9 words.
MOST_WORDS = 16

# Some data: stems as `normalise` leaves them (lower case, no accents).
_DATA = """
    data datos dados donnee donnees information informations informacion informacoes
    informacao info infos impormasyon detalye messages message mensajes mensagens mensahe
    history historique historial historico conversation conversations conversacion conversa
    chats chat records
    дані даних даними дан информац інформац повідомлен сообщени переписк истори істори
    بيانات معلومات رسائل رسايل محادث سجل
    اطلاعات داده پیام
    ڈیٹا ڈیٹے معلومات پیغام
    डेटा डाटा जानकारी मैसेज संदेश jankari
    ਡਾਟਾ ਡੇਟਾ ਜਾਣਕਾਰੀ ਮੈਸੇਜ ਸੁਨੇਹ
    தரவ தகவல மெசேஜ டேட்டா
    数据 资料 信息 记录 隐私
"""
# Deleting or forgetting, and privacy itself: with some data, enough.
_ERASE = """
    delet eras remove forget wipe privacy
    supprim effac oubli retir confidential privee
    borr elimin olvid privacidad
    apag exclu esquec privacidade
    burah tanggal
    видал стер забуд удал конфиденц приватн
    حذف امسح مسح احذف تمسح خصوصي
    حذف حریم
    ڈیلیٹ مٹا حذف پرائیویسی
    डिलीट मिटा हटा प्राइवेसी निजता delete mita hata
    ਡਿਲੀਟ ਮਿਟਾ ਹਟਾ ਪ੍ਰਾਈਵੇਸੀ
    நீக்க அழி டெலீட் டிலீட் தனியுரிமை
    删除 删掉 清除 忘记 隐私
"""
# Keeping, storing, sharing or seeing: said to the bot ("do you keep my data"). In Latin and
# Cyrillic a "you" word must say so; elsewhere the verb's own form does ("تحتفظون", "保存").
_KEEP = """
    keep kept store storing save collect shar sell see track
    gardez garder conserv stock enregistr partag
    guarda almacen compart
    armazen compartilh
    tago
    зберіга збереж храни сохран переда
    تحتفظ تحفظ تخزن تشارك
    نگه ذخیره
    محفوظ رکھ
    सेव रखत स्टोर rakhte
    ਸੇਵ ਰੱਖ
    சேமி வைத்திரு
    保存 保留 存储 分享
"""
# Safe or private: said of the person's own data ("is my information private").
_SAFE = """
    private safe secure securis confidentiel confidentielle segur seguro segura seguros privado
    privada privados ligtas безпеч безопас защищ захищ
"""
# The writer's own, in Latin and Cyrillic scripts.
_MY = """
    my me mine mes mon ma moi mis mi meus minhas meu minha ko akin
    мои мої мой мій мене меня
"""
# The bot, spoken to, in Latin and Cyrillic scripts: "you", "your", "bot".
_YOU = """
    you your u bot
    vous tu ton ta tes votre vos robot
    usted ustedes tu tus su sus voce voces seu sua
    ikaw mo ninyo niyo
    ви ти ваш твій вы ты бот
"""


def _folded(words: str) -> frozenset[str]:
    """A list's words as `normalise` leaves them."""
    return frozenset(normalise(word) for word in words.split()) - {""}


def _cjk(stem: str) -> bool:
    return all("\u4e00" <= char <= "\u9fff" for char in stem)


def _spaced(stem: str) -> bool:
    """Latin and Cyrillic: stems start words (no prefixes glue onto them)."""
    return all(char.isascii() or "\u0400" <= char <= "\u04ff" for char in stem)


@dataclass(frozen=True)
class _Stems:
    """Stems sorted once by how they are found: Chinese inside the text, Latin and Cyrillic
    at a word's start, other scripts (where prefixes and particles glue on) inside a word."""

    cjk: tuple[str, ...]
    spaced: tuple[str, ...]
    inside: tuple[str, ...]

    @classmethod
    def of(cls, words: str) -> _Stems:
        stems = sorted(_folded(words))
        cjk = tuple(s for s in stems if _cjk(s))
        spaced = tuple(s for s in stems if not _cjk(s) and _spaced(s))
        inside = tuple(s for s in stems if not _cjk(s) and not _spaced(s))
        return cls(cjk, spaced, inside)

    def only(self, spaced: bool) -> _Stems:
        """The Latin and Cyrillic stems alone, or all the others."""
        if spaced:
            return _Stems((), self.spaced, ())
        return _Stems(self.cjk, (), self.inside)

    def named(self, words: list[str], text: str) -> bool:
        """Whether a message (its words, and its folded text) holds one of these stems."""
        return (
            any(stem in text for stem in self.cjk)
            or (bool(self.spaced) and any(word.startswith(self.spaced) for word in words))
            or any(stem in word for stem in self.inside for word in words)
        )


_DATA_STEMS = _Stems.of(_DATA)
_ERASE_STEMS = _Stems.of(_ERASE)
_YOU_WORDS = _folded(_YOU)
_MY_WORDS = _folded(_MY)
_SAFE_STEMS = _Stems.of(_SAFE)
_KEEP_STEMS = _Stems.of(_KEEP)
_KEEP_SPACED = _KEEP_STEMS.only(spaced=True)
_KEEP_UNSPACED = _KEEP_STEMS.only(spaced=False)


def asks_about_own_data(text: str) -> bool:
    """Whether a message asks what happens to its writer's data, or how to erase it."""
    folded = normalise(text)
    words = folded.split()
    if not words or len(words) > MOST_WORDS:
        return False
    if not _DATA_STEMS.named(words, folded):
        return False
    if _ERASE_STEMS.named(words, folded) or _KEEP_UNSPACED.named(words, folded):
        return True
    if any(word in _MY_WORDS for word in words) and _SAFE_STEMS.named(words, folded):
        return True
    spoken_to = any(word in _YOU_WORDS for word in words)
    return spoken_to and _KEEP_SPACED.named(words, folded)
