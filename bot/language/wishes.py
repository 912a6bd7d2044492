"""What a message wishes for, read from its words alone: a stop, a button payload, a question
about a service rather than a wish to use it. Pure functions over text, shared by the actions
(actions/forms/) and `make eval`, which plays the same rules over the hold-out."""

from __future__ import annotations

import re

STOP = re.compile(
    r"^\W*(?:nej,?\s+)?(?:stop(?:p|\s+det|\s+nu)?|glem\s+det|annuller(?:\s+det)?|afbryd"
    r"|fortryd|drop\s+det|lad\s+v(?:æ|ae)re|jeg\s+vil\s+ikke\s+alligevel|ikke\s+alligevel"
    r"|nej\s+tak,?\s+alligevel\s+ikke)\W*$",
    re.IGNORECASE,
)

PAYLOAD = re.compile(r"^/(?P<intent>\w+)(?P<json>\{.*\})?\s*$", re.DOTALL)


def is_payload(text: str) -> bool:
    return bool(PAYLOAD.match(text or ""))


# The NLU's "stop" only counts with one of these words in the message: a name such as
# "Robert'); DROP TABLE ..." must be re-asked, not taken as "drop det".
STOP_WORD = re.compile(
    r"\b(?:stop\w*|glem|annuller\w*|afbryd\w*|fortryd\w*|fortrudt|drop\s+det|lad\s+v(?:æ|ae)re"
    r"|alligevel|afslut\w*|gider\s+ikke|ikke\s+mere|stands)\b",
    re.IGNORECASE,
)


# A question about a service, not a wish to use it: "skal jeg have min egen ipad med på
# kurset", "koster det noget at få hjælp?". A wish ("jeg vil gerne på kursus", "kan I booke
# mig en tid") keeps the form, and so does a button.
_QUESTION_START = re.compile(
    r"^\W*(?:hvad|hvordan|hvorn(?:å|aa)r|hvor|hvem|hvilke\w*|hvorfor|hvis|skal|kan|koster"
    r"|er|m(?:å|aa)|har|f(?:å|aa)r|g(?:æ|ae)lder|behøver|beh(?:ø|oe)ver|findes|tager)\b",
    re.IGNORECASE,
)
_WISH = re.compile(
    r"\bvil\s+(?:gerne|godt|have|booke|tilmelde|melde)|\bgerne\s+(?:vil|have|booke|tilmelde|på)"
    r"|\b(?:tilmeld|meld|book|bestil|skriv)\s+(?:mig|os|en|min|et)\b|\bønsker\b"
    r"|\bkan\s+(?:i|du)\s+(?:booke|tilmelde|melde|skrive|give)\b",
    re.IGNORECASE,
)


# Words of a citizen who is fed up with the bot (action_handoff offers them a person).
FRUSTRATED = re.compile(
    r"håbløs|haabloes|ubrugelig|gider\s+(?:altså\s+)?ikke|spild\s+af\s+tid|irriter|"
    r"forstår\s+(?:mig\s+)?ikke|forstaar\s+ikke|virker\s+(?:bare\s+)?ikke|træt\s+af|"
    r"elendig|\bdum\b|tre\s+gange|igen\s+og\s+igen|slet\s+ikke|vr(?:ø|oe)vl|sludder|pjat|"
    r"sv(?:æ|ae)rt|besv(?:æ|ae)rlig|umulig|forvirr|kompliceret",
    re.IGNORECASE,
)
_TO_THE_BOT = re.compile(r"\b(?:du|dig|din|dit|dine)\b", re.IGNORECASE)


def plain_question(text: str) -> bool:
    """A question about something, not about the bot: "hvordan fjerner jeg den igen?", which
    the NLU may read as frustration, but not "hvorfor forstår du ikke?" nor "er du dum?"."""
    return (
        asks_rather_than_wishes(text)
        and not FRUSTRATED.search(text)
        and not _TO_THE_BOT.search(text)
    )


def states_a_wish(text: str) -> bool:
    """True when the words ask for a service ("jeg vil gerne booke", "skriv mig op")."""
    return bool(_WISH.search(text or ""))


def asks_rather_than_wishes(text: str) -> bool:
    """True for a typed question about a service that wishes for nothing (see above)."""
    text = (text or "").strip()
    if not text or is_payload(text) or _WISH.search(text):
        return False
    return text.endswith("?") or bool(_QUESTION_START.match(text))


# What the forms are about: an appointment for IT help or a course, to book, sign up for,
# move, cancel or look up. A message with none of these words that the NLU read as one of
# them ("hvordan melder jeg min flytning på borger.dk?" as moving a booking, "jeg vil gerne
# have hjælp til at få mitid" as booking) is answered when an article plainly answers it.
SERVICE_SUBJECT = re.compile(
    r"\b(?:tid(?:en)?|tider(?:ne)?|book\w*|aftale\w*|reserv\w*|kursus\w*|kurser\w*|kurset"
    r"|hold(?:et)?|tilmeld\w*|referen\w*|nummer\w*|bookingnummer\w*)\b"
    # A booking reference: "ABC-234", or six letters and digits mixed ("ABC234").
    r"|\b[A-Za-z0-9]{3}-[A-Za-z0-9]{3}\b|\b(?=\w*\d)(?=\w*[A-Za-z])[A-Za-z0-9]{6}\b",
    re.IGNORECASE,
)


# "hvad hvis hun fortryder?" asks about changing one's mind; it is not a wish to stop.
_HYPOTHETICAL = re.compile(r"^\W*(?:og\s+|men\s+)?(?:hvad\s+(?:nu\s+)?hvis|hvis)\b", re.IGNORECASE)


def wants_stop(text: str, intent: str, confidence: float = 1.0) -> bool:
    if STOP.match(text or ""):
        return True
    return (
        intent == "stop"
        and confidence >= 0.6
        and bool(STOP_WORD.search(text or ""))
        and not _HYPOTHETICAL.match(text or "")
    )


# A yes or no that goes on to say more: "nej, jeg mener mit pas", "ja, men hvad koster det?",
# "ikke det, jeg tænkte på friplads", "jeg mener mitid". The lead is the reply to what the bot
# said; the rest is the citizen's own question, and a "no" in the lead turns down what was
# shown. Without a rest it is a plain yes or no.
_NO = r"nej|næ|nae|nix|nope|ikke\s+det|ikke\s+rigtigt|forkert"
_YES = (
    r"ja|jo|jep|jeps|okay|ok|tak|fint|godt|korrekt|bestemt|(?:lige\s+)?pr(?:æ|ae)cis"
    r"|super|perfekt|fedt|dejligt|udm(?:æ|ae)rket|gerne|absolut|klart|selvf(?:ø|oe)lgelig"
)
_REPLY_LEAD = re.compile(
    r"^\W*(?:(?:" + _NO + "|" + _YES + r"|ellers"
    r"|det\s+(?:er|var)\s+(?:ikke\s+(?:det|rigtigt)|forkert)"
    r"(?:,?\s+(?:jeg|vi)\s+(?:mente|mener|spurgte\s+om|tænkte\s+på|taenkte\s+paa))?"
    r"|det\s+(?:passer|stemmer)(?:\s+ikke)?|det\s+er\s+rigtigt"
    r"|(?:jeg|vi)\s+(?:mener|mente|tænkte|taenkte|spurgte|spørger|spoerger)"
    r"(?:\s+(?:mere|egentlig|faktisk))?(?:\s+(?:på|paa|om))?"
    r")(?:[\s,.:;!-]+|$))+",
    re.IGNORECASE,
)
_NO_IN_LEAD = re.compile(r"\b(?:" + _NO + r"|ikke)\b", re.IGNORECASE)


def reply_lead(text: str) -> tuple[str, str, bool]:
    """The message split into its yes/no/"jeg mener" lead and the rest, and whether the lead
    says no. A button payload has no lead."""
    text = (text or "").strip()
    if is_payload(text):
        return "", text, False
    match = _REPLY_LEAD.match(text)
    if not match:
        return "", text, False
    lead = match.group(0)
    rest = text[len(lead):].strip()
    # "nej, men hvad med min kone?" goes on from the answer rather than turning it down.
    goes_on = re.match(r"(?:men|og)\b", rest, re.IGNORECASE) is not None
    return lead.strip(), rest, bool(_NO_IN_LEAD.search(lead)) and not goes_on
