"""Small talk: a message that only greets, thanks, says goodbye or says the last reply did not
help, in the languages people here write, is not a question.

Newcomers often open with "hi" or "salam", and close with "thank you" or "shukriya". Matched
against the knowledge base, these got "Sorry, I do not know the answer to that yet" and went
into the emerging needs as questions no one could answer. A whole message made only of such
phrases, less courtesy words ("so much", "ji", "po", "everyone"), is small talk; anything more
("hi, where is the food bank") is a question. Pure and fast: a few hundred phrases in a set.

"no", "wrong", "that did not help", "I don't understand" and a lone "?" answer the bot, not
ask it: they went into the emerging needs as unanswerable questions, for staff to read one by
one. They get an apology, the 911/988 line and who can help in person, and are not logged.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from bot.text import normalise


class Talk(StrEnum):
    """What a small-talk message does."""

    HELLO = "hello"
    THANKS = "thanks"
    BYE = "bye"
    # "no", "wrong", "that did not help", "?": the last reply was not what the person needed.
    NOT_HELPFUL = "not_helpful"
    # "how do I delete my data", "do you keep my messages": the bot's own privacy notice
    # (bot.matching.datarequest decides; not a phrase of this table).
    PRIVACY = "privacy"


# Phrases as `normalise` leaves them (lower case, Latin accents and punctuation removed), in the
# twelve shipped languages and the scripts and Latin spellings people use for them.
_PHRASES: dict[Talk, str] = {
    Talk.HELLO: """
        hi | hii | hiii | hello | helo | hallo | hey | heya | hiya | howdy | greetings | yo |
        good morning | good afternoon | good evening | morning | hi there | hello there |
        hey there |
        bonjour | bonsoir | salut | coucou | allo | bon matin |
        hola | buenos dias | buenas tardes | buenas noches | buenas | ola | oi | bom dia |
        boa tarde | boa noite |
        مرحبا | اهلا | أهلا | اهلين | السلام عليكم | سلام عليكم | السلام | سلام | صباح الخير |
        مساء الخير | marhaba | marhaban | ahlan | salam | salaam | assalamu alaikum |
        assalam o alaikum | assalamualaikum | asalam o alaikum | salam alaikum | aoa |
        درود | وقت بخیر | صبح بخیر | عصر بخیر | آداب | ہیلو | ہائے |
        नमस्ते | नमस्कार | हेलो | हाय | namaste | namaskar | namaskaar |
        ਸਤ ਸ੍ਰੀ ਅਕਾਲ | ਸਤਿ ਸ੍ਰੀ ਅਕਾਲ | ਸਤ ਸ਼੍ਰੀ ਅਕਾਲ | ਨਮਸਤੇ | ਹੈਲੋ | sat sri akal |
        sat shri akal | ssa |
        வணக்கம் | ஹலோ | vanakkam | vanakam |
        kumusta | kamusta | musta | magandang umaga | magandang hapon | magandang gabi |
        magandang araw |
        привіт | вітаю | добрий день | доброго дня | добрий вечір | доброго ранку | привет |
        здравствуйте | здравствуй | добрый день |
        你好 | 您好 | 嗨 | 哈喽 | 早上好 | 下午好 | 晚上好 | 早安 | 大家好 |
        how are you | how r u | how are u | how are you doing | hows it going | whats up |
        wassup | sup | ca va | comment ca va | comment allez vous | como estas | como esta |
        que tal | tudo bem | como vai | kaise ho | kaise hain | kya haal hai | kya hal hai |
        kaisay ho | कैसे हो | कैसे हैं | आप कैसे हैं | क्या हाल है | کیسے ہو | آپ کیسے ہیں |
        کیا حال ہے | ਕੀ ਹਾਲ ਹੈ | ਤੁਸੀਂ ਕਿਵੇਂ ਹੋ | ki haal hai | kiddan |
        எப்படி இருக்கீங்க | எப்படி இருக்கிறீர்கள் | eppadi irukeenga | kumusta ka |
        kamusta ka | kumusta kayo | 你好吗 | 您好吗 | 最近怎么样 | كيف حالك | كيفك | شلونك |
        ازيك | kifak | حالت چطوره | چطوری | خوبی | как дела | как ты | як справи | як ти
    """,
    Talk.THANKS: """
        thanks | thank you | thankyou | thank u | thx | thnx | thanx | ty | tysm | tq |
        many thanks | cheers | much appreciated | appreciate it | i appreciate it |
        for your help | for the help | for the information | for the info | for your time |
        appreciated | ok | okay | great | cool | perfect | got it | nice | alright | all right |
        good |
        merci | je vous remercie | merci pour votre aide | merci pour l aide | d accord merci |
        gracias | muchas gracias | mil gracias | obrigado | obrigada | muito obrigado |
        muito obrigada |
        شكرا | مشكور | يعطيك العافية | shukran | shukran jazeelan |
        ممنون | مرسی | متشکرم | سپاس | سپاسگزارم | ممنونم | mamnoon | merci |
        شکریہ | مہربانی | shukriya | shukria | shukriyaa | bohat shukriya | bahut shukriya |
        meherbani |
        धन्यवाद | शुक्रिया | dhanyavad | dhanyawad | dhanyavaad | bahut dhanyavad |
        ਧੰਨਵਾਦ | ਸ਼ੁਕਰੀਆ | ਮਿਹਰਬਾਨੀ | dhanvaad | dhanwad | dhanvad | bahut dhanvaad | meharbani |
        நன்றி | nandri | nanri | romba nandri | mikka nandri |
        salamat | maraming salamat | salamat sa tulong | salamuch |
        дякую | спасибі | спасибо | большое спасибо |
        谢谢 | 谢谢你 | 谢谢您 | 多谢 | 感谢 | 非常感谢 | 谢啦 | xiexie | xie xie
    """,
    Talk.BYE: """
        bye | goodbye | good bye | see you | see ya | good night | take care |
        au revoir | bonne journee | bonne soiree | bonne nuit | a bientot | bientot | a demain |
        a plus | a plus tard | adios | hasta luego | hasta manana | nos vemos | ate logo |
        ate amanha | chao | ciao | tchau |
        مع السلامة | خدا حافظ | خداحافظ | اللہ حافظ | khuda hafiz | allah hafiz |
        अलविदा | फिर मिलेंगे | alvida | ਫਿਰ ਮਿਲਾਂਗੇ | போய் வருகிறேன் | paalam |
        до побачення | бувай | до свидания | пока | 再见 | 拜拜 | zaijian
    """,
    # Not "hindi" alone (Tagalog's "no"): someone typing it may be asking for Hindi.
    Talk.NOT_HELPFUL: """
        no | nope | nah | no no | not really | wrong | wrong answer | that is wrong | thats wrong |
        its wrong | not right | incorrect | not helpful | unhelpful | useless | not useful |
        no help | did not help | didnt help | that did not help | that didnt help |
        this did not help | this didnt help | it did not help | it didnt help | does not help |
        doesnt help | not what i asked | not what i asked for | not what i meant |
        that is not what i asked | thats not what i asked | not that | not this |
        i dont understand | i do not understand | you did not understand |
        you didnt understand | what | huh |
        non | pas utile | pas ca | ce n est pas ca | c est faux | faux | mauvaise reponse |
        ca ne m aide pas | ca n aide pas | pas ce que j ai demande |
        c est pas ce que j ai demande | je ne comprends pas | quoi |
        no me ayuda | no me ayudo | no sirve | eso no | incorrecto | respuesta incorrecta |
        no es eso | no entiendo | que | nao | nao ajudou | nao e isso | errado | nao entendi |
        لا | غلط | خطأ | خطا | لا يساعد | لم يساعدني | ليس هذا | مش هذا | لا افهم | لا أفهم |
        لم افهم | لم أفهم |
        نه | نخیر | اشتباه | کمک نکرد | این نیست | نفهمیدم |
        نہیں | جی نہیں | یہ نہیں | مدد نہیں ہوئی | سمجھ نہیں آیا | nahi | nahin | nai | galat |
        ye nahi | yeh nahi | samajh nahi aaya | galat hai | ye galat hai | yeh galat hai |
        ghalat | غلط ہے | یہ غلط ہے |
        नहीं | गलत | ग़लत | यह नहीं | ये नहीं | मदद नहीं हुई | समझ नहीं आया | गलत है |
        ग़लत है | यह गलत है | ये गलत है |
        ਨਹੀਂ | ਗਲਤ | ਗ਼ਲਤ | ਇਹ ਨਹੀਂ | ਸਮਝ ਨਹੀਂ ਆਈ | ਸਮਝ ਨਹੀਂ ਆਇਆ | ਗਲਤ ਹੈ | ਇਹ ਗਲਤ ਹੈ |
        இல்லை | இல்ல | தவறு | இது இல்லை | புரியவில்லை | புரியல | illai | illa | thappu |
        puriyala |
        mali | hindi ito | hindi yan | hindi po | hindi nakatulong | hindi ko maintindihan | ano |
        ні | не те | неправильно | не допомогло | не розумію | не зрозумів | нет | не то |
        не помогло | не понимаю | не понял |
        不 | 不是 | 不对 | 错了 | 不是这个 | 没用 | 没有帮助 | 没帮助 | 看不懂 | 不明白 | 什么
    """,
}
# The language a Latin-spelt phrase says itself in, so that "merci", "gracias" and "salamat
# po" get a word back in French, Spanish and Tagalog (they got English: too short for the
# language identifier). Phrases that several of the languages share ("ok", "no",
# "shukriya", "assalamu alaikum") name none; other scripts tell their language themselves.
_SAID_IN: dict[str, str] = {
    "fr": """
        bonjour | bonsoir | salut | coucou | bon matin | merci | je vous remercie |
        merci pour votre aide | merci pour l aide | d accord merci | au revoir | bonne journee |
        bonne soiree | bonne nuit | a bientot | bientot | a demain | a plus | a plus tard |
        ca va | comment ca va | comment allez vous | non | pas utile | pas ca | ce n est pas ca |
        c est faux | faux | mauvaise reponse | ca ne m aide pas | ca n aide pas |
        pas ce que j ai demande | c est pas ce que j ai demande | je ne comprends pas |
        quoi
    """,
    "es": """
        hola | buenos dias | buenas tardes | buenas noches | buenas | gracias | muchas gracias |
        mil gracias | adios | hasta luego | hasta manana | nos vemos | como estas | como esta |
        que tal | no me ayuda | no me ayudo | no sirve | eso no | incorrecto |
        respuesta incorrecta | no es eso | no entiendo | que
    """,
    "tl": """
        kumusta | kamusta | musta | magandang umaga | magandang hapon | magandang gabi |
        magandang araw | kumusta ka | kamusta ka | kumusta kayo | salamat | maraming salamat |
        salamat sa tulong | salamuch | paalam | mali | hindi ito | hindi yan | hindi po |
        hindi nakatulong | hindi ko maintindihan | ano
    """,
    "hi": """
        namaste | namaskar | namaskaar | dhanyavad | dhanyawad | dhanyavaad | bahut dhanyavad |
        alvida
    """,
    "pa": """
        sat sri akal | sat shri akal | ssa | dhanvaad | dhanwad | dhanvad | bahut dhanvaad |
        kiddan | ki haal hai
    """,
    "ta": """
        vanakkam | vanakam | nandri | nanri | romba nandri | mikka nandri | eppadi irukeenga |
        illai | illa | thappu | puriyala
    """,
    "ur": "khuda hafiz | allah hafiz",
    "ar": "marhaba | marhaban | ahlan | shukran | shukran jazeelan | kifak",
    "zh": "xiexie | xie xie | zaijian",
}
# Courtesy words that do not change what the message does: "thank you so much sir",
# "salamat po", "namaste ji", "hello everyone", "thanks again!!". So no phrase repeats what a
# phrase and courtesy words already say ("salamat" and "po"), nor two phrases in a row ("ok"
# and "thanks" make "ok thanks", "thanks" and "for your help" make "thanks for your help").
_COURTESY_WORDS = """so much very a lot lots again all everyone everybody guys friend friends sir
    madam maam dear team bot ji jee po bhai bhaiya baji didi behen habibi bro sis really tons
    beaucoup bien mucho todos todas amigo amiga oh mate
    جزيلا كثير كتير خیلی بہت जी बहुत ਜੀ ਬਹੁਤ ரொம்ப மிக்க дуже щиро 非常"""
# Emoji that say the same as a word (skin tones and the emoji variation selector removed).
_EMOJI = str.maketrans(
    {
        "👍": " ok ",
        "🙏": " thanks ",
        "👌": " ok ",
        "❤": " thanks ",
        "💐": " thanks ",
        "🌹": " thanks ",
        "👋": " hi ",
    }
)
_EMOJI_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")
# Arabic vowel marks (tanween in "شكراً"), and Persian and Urdu letter forms read as Arabic's.
_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_FOLD = str.maketrans({"ی": "ي", "ى": "ي", "ک": "ك", "ہ": "ه", "ۃ": "ة", "ھ": "ه", "ؤ": "و"})
# A longer message (courtesy words included) is a question.
_MOST_WORDS = 8


def _fold(text: str) -> str:
    words = _EMOJI_MODIFIERS.sub("", text).translate(_EMOJI)
    return _MARKS.sub("", normalise(words)).translate(_FOLD)


def _table() -> dict[str, Talk]:
    table: dict[str, Talk] = {}
    for talk, phrases in _PHRASES.items():
        for phrase in phrases.split("|"):
            folded = _fold(phrase)
            if folded:
                table.setdefault(folded, talk)
    return table


_TABLE = _table()
_LANGUAGE = {
    _fold(phrase): language
    for language, phrases in _SAID_IN.items()
    for phrase in phrases.split("|")
    if phrase.strip()
}
_COURTESY = frozenset(_fold(word) for word in _COURTESY_WORDS.split())
_LONGEST = max(len(phrase.split()) for phrase in _TABLE)


def _only_punctuation(text: str) -> bool:
    """ "?", "??", "..." (no letter, digit or emoji): the person is lost, not asking."""
    return bool(text.strip()) and all(
        char.isspace() or unicodedata.category(char).startswith("P") for char in text
    )


def small_talk(text: str) -> Talk | None:
    """What a message does when it is only small talk (goodbye before thanks before "that did
    not help" before hello when it holds several: "thanks, bye" is a goodbye, whose reply
    carries the 911/988 line, and "no thanks" is thanks); None when it says anything more."""
    if _only_punctuation(text):
        return Talk.NOT_HELPFUL
    found = {_TABLE[phrase] for phrase in _phrases(text) or ()}
    for talk in (Talk.BYE, Talk.THANKS, Talk.NOT_HELPFUL, Talk.HELLO):
        if talk in found:
            return talk
    return None


def said_in(text: str) -> str | None:
    """The language a small-talk message says itself in ("merci" French, "salamat po"
    Tagalog), when its phrases name one and only one; None otherwise."""
    languages = {_LANGUAGE.get(phrase) for phrase in _phrases(text) or ()} - {None}
    return languages.pop() if len(languages) == 1 else None


def _phrases(text: str) -> list[str] | None:
    """The small-talk phrases a message is made of, courtesy words aside; None when it says
    anything more."""
    words = _fold(text).split()
    if len(words) > _MOST_WORDS:
        return None
    found: list[str] = []
    start = 0
    while start < len(words):
        # The longest phrase that starts here ("thank you for your help" before "thank you",
        # "a demain" before the courtesy word "a"), else a courtesy word, else a question.
        for end in range(min(len(words), start + _LONGEST), start, -1):
            phrase = " ".join(words[start:end])
            if phrase in _TABLE:
                found.append(phrase)
                start = end
                break
        else:
            if words[start] not in _COURTESY:
                return None
            start += 1
    return found
