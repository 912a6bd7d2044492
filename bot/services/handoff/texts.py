"""The handoff's Danish: labels the staff console shows, and what the citizen is told, in the
transcript, at each step (bot/core/handoff_states.py has the states themselves)."""

from __future__ import annotations

from bot.core.handoff_states import Kind, Status

REASONS: dict[str, str] = {
    "requested": "Bad om en medarbejder",
    "frustrated": "Utilfreds med assistenten",
    "fallback": "Assistenten forstod ikke spørgsmålet",
    "complaint": "Klage eller personlig sag",
    "callback": "Bad om at blive kontaktet",
    "kiosk": "Kald fra kiosk",
}
OUTCOMES: dict[str, str] = {
    "resolved": "Løst",
    "referred": "Henvist videre",
    "callback_agreed": "Aftalt at kontakte borgeren",
    "no_response": "Borgeren svarede ikke",
    "other": "Andet",
}
KIND_LABELS = {Kind.LIVE: "Chat", Kind.CALLBACK: "Kontakt borgeren", Kind.KIOSK: "Kiosk"}
STATUS_LABELS = {
    Status.QUEUED: "Venter",
    Status.WITH_STAFF: "I gang",
    Status.PENDING_DETAILS: "Mangler kontaktoplysninger",
    Status.OPEN: "Åben",
    Status.RETURNED: "Givet tilbage til assistenten",
    Status.CLOSED: "Afsluttet",
    Status.CANCELLED: "Borgeren forlod køen",
}
TOPIC_LABELS = {
    "mitid": "MitID",
    "nemid": "NemID",
    "digital_post": "Digital Post",
    "flytning": "Flytning",
    "koerekort": "Kørekort",
    "skole": "Skole",
    "dagtilbud": "Dagtilbud",
    "it_help": "it-hjælp",
    "courses": "Kurser",
    "opening_hours": "Åbningstider",
    "staff": "Medarbejder",
    "smalltalk": "Småsnak",
    "out_of_scope": "Andet",
}

# What the citizen is told, in the transcript, at each step.
CANCEL_PAYLOAD = "/cancel_handoff"
CANCEL_BUTTON = {"title": "Forlad køen", "payload": CANCEL_PAYLOAD}
QUEUE_TEXT = (
    "Du er nummer {position} i køen. Forventet ventetid: ca. {minutes} min. "
    "Skriv gerne dit spørgsmål imens – medarbejderen kan se hele samtalen."
)
TAKEN_TEXT = "{name} fra biblioteket har overtaget samtalen og svarer dig her."
RETURNED_TEXT = (
    "{name} har givet samtalen tilbage til den digitale assistent. "
    "Du kan stille et nyt spørgsmål, når du vil."
)
CLOSED_TEXT = (
    "{name} har afsluttet samtalen. Tak for din henvendelse – "
    "du er altid velkommen til at skrive igen."
)
CANCELLED_TEXT = (
    "Du har forladt køen. Du kan fortsætte med at skrive med den digitale assistent."
)
TIMEOUT_TEXT = (
    "Der var desværre ingen ledig medarbejder inden for {minutes} min. "
    "I stedet kan en medarbejder kontakte dig {promise}."
)
KIOSK_CALLED = (
    "En medarbejder har fået besked og kommer hen til dig så hurtigt som muligt. "
    "Bliv gerne ved skærmen."
)
KIOSK_ALREADY_CALLED = (
    "En medarbejder har allerede fået besked og kommer hen til dig så hurtigt som muligt."
)
# What the kiosk screen says when staff take its call, and when the call is closed before
# anyone came (tagged ``kiosk`` in the transcript: the kiosk shows them by its call button).
KIOSK_COMING = "En medarbejder er på vej: {first_name} kommer hen til dig ved skærmen."
KIOSK_CLOSED_UNANSWERED = (
    "Dit kald er lukket, uden at en medarbejder nåede hen til dig. Gå hen til skranken, "
    "eller tryk på »Kald en medarbejder« igen."
)
KIOSK_NO_STAFF = (
    "Der er ingen medarbejdere på {branch} lige nu. Personalet er her igen {when}. "
    "Du kan også ringe til biblioteket på {phone}."
)

