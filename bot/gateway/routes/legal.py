"""The legal pages a Danish public body's website needs: the privacy notice ("Sådan behandler
vi dine oplysninger", GDPR art. 13) at ``/privatliv`` and the accessibility statement (lov om
tilgængelighed af offentlige organers websteder, EN 301 549 / WCAG 2.1 AA) at
``/tilgaengelighed``. The facts come from config/library.yml (``privacy:``,
``accessibility:``) and the retention periods from the settings, so the notice says what the
purge really does. Linked from the widget, the kiosk and the demo page.
"""

from __future__ import annotations

import html
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.core.config import Settings
from bot.services.library import Library, load_library

router = APIRouter(include_in_schema=False)


def _e(value: object) -> str:
    return html.escape(str(value))


def _back_link(back: str | None) -> str:
    # Only back to the kiosk screen on this gateway: never an open redirect.
    if not back or not back.startswith("/kiosk") or "//" in back or "\\" in back:
        return ""
    return f'<p><a class="back" href="{_e(back)}">Tilbage til skærmen</a></p>'


def _page(title: str, library: Library, body: str, back: str | None = None) -> HTMLResponse:
    page = f"""<!doctype html>
<html lang="da">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{_e(title)} – {_e(library.name)}</title>
<link rel="stylesheet" href="/static/legal.css">
</head>
<body>
<a class="skip" href="#indhold">Gå til indhold</a>
<header><p class="library">{_e(library.name)}</p></header>
<main id="indhold">
{_back_link(back)}
<h1>{_e(title)}</h1>
{body}
</main>
<footer><p><a href="/privatliv">Sådan behandler vi dine oplysninger</a> ·
<a href="/tilgaengelighed">Tilgængelighedserklæring</a></p></footer>
</body>
</html>"""
    return HTMLResponse(page, headers={"Cache-Control": "public, max-age=300"})


def _days(days: int) -> str:
    return "1 dag" if days == 1 else f"{days} dage"


def privacy_notice(settings: Settings, library: Library) -> str:
    p = library.privacy
    controller = p.get("controller", library.name)
    contact = p.get("email", library.email)
    return f"""
<p>Her kan du læse, hvilke oplysninger bibliotekets digitale assistent (chatten på
hjemmesiden og skærmen i biblioteket) gemmer om dig, hvorfor, hvor længe, og hvilke
rettigheder du har.</p>

<h2>Dataansvarlig</h2>
<p>{_e(controller)}<br>{_e(p.get("address", ""))}<br>
CVR: {_e(p.get("cvr", ""))}<br>
E-mail: <a href="mailto:{_e(contact)}">{_e(contact)}</a> ·
Telefon: {_e(p.get("phone", library.phone))}</p>

<h2>Databeskyttelsesrådgiver</h2>
<p>Har du spørgsmål til, hvordan vi behandler dine oplysninger, kan du kontakte
{_e(p.get("dpo", "vores databeskyttelsesrådgiver"))}:
<a href="mailto:{_e(p.get("dpo_email", ""))}">{_e(p.get("dpo_email", ""))}</a>,
telefon {_e(p.get("dpo_phone", ""))}.</p>

<h2>Hvad vi bruger oplysningerne til</h2>
<ul>
<li>at svare på dine spørgsmål om digital selvbetjening i chatten,</li>
<li>at booke en tid til it-hjælp og tilmelde dig it-kurser – og sende dig en bekræftelse og
en påmindelse,</li>
<li>at en medarbejder kan overtage samtalen eller kontakte dig, når du beder om det,</li>
<li>at forbedre svarene: vi ser på, hvilke svar der hjalp (dine tommelfingre), uden
kontaktoplysninger.</li>
</ul>

<h2>Hvilke oplysninger</h2>
<p>Det, du skriver i chatten, og assistentens svar. Når du booker eller tilmelder dig: dit
navn og det telefonnummer eller den e-mail, du oplyser. Vi spørger aldrig om dit
CPR-nummer: skriver du det alligevel, fjerner vi det, før beskeden gemmes.</p>

<h2>Retsgrundlag</h2>
<p>Vi behandler oplysningerne for at udføre en opgave i samfundets interesse:
bibliotekernes opgave med at hjælpe borgere med digital selvbetjening, jf.
databeskyttelsesforordningens artikel 6, stk. 1, litra e, og lov om biblioteksvirksomhed.</p>

<h2>Hvor længe vi gemmer oplysningerne</h2>
<ul>
<li>Samtaler (også dine vurderinger af svarene): {_days(settings.transcript_retention_days)}
efter den sidste besked.</li>
<li>Bookinger og kursustilmeldinger: {_days(settings.retention_days)} efter
aftalen.</li>
<li>Henvendelser til en medarbejder: {_days(settings.ticket_retention_days)} efter den sidste
ændring.</li>
</ul>
<p>Derefter sletter vi dem automatisk. Du kan selv slette en samtale med det samme med
knappen <strong>Slet samtalen</strong> i chatten.</p>

<h2>Hvem ser oplysningerne</h2>
<p>Bibliotekets medarbejdere, når du beder om hjælp fra en person, og når de forbereder en
booket tid. Oplysningerne behandles for os af {_e(p.get("processors", "vores databehandlere"))}
efter en databehandleraftale. Vi videregiver dem ikke til andre.</p>

<h2>Dine rettigheder</h2>
<p>Du har ret til at få indsigt i de oplysninger, vi har om dig (artikel 15), til at få
forkerte oplysninger rettet (artikel 16), til at få dem slettet (artikel 17), til at få
behandlingen begrænset (artikel 18) og til at gøre indsigelse (artikel 21). Skriv til
<a href="mailto:{_e(contact)}">{_e(contact)}</a>, eller spørg en medarbejder på biblioteket.</p>

<h2>Klage</h2>
<p>Du kan klage til Datatilsynet, Carl Jacobsens Vej 35, 2500 Valby,
<a href="mailto:dt@datatilsynet.dk">dt@datatilsynet.dk</a>, telefon 33 19 32 00.</p>
"""


def accessibility_statement(library: Library) -> str:
    a = library.accessibility
    email = a.get("contact_email", library.email)
    phone = a.get("contact_phone", library.phone)
    reviewed = a.get("reviewed") or date.today().isoformat()
    was = a.get("was_tool_url", "")
    official = (
        f'<p>Den officielle erklæring findes i Digitaliseringsstyrelsens WAS-Tool: '
        f'<a href="{_e(was)}">{_e(was)}</a>.</p>'
        if was
        else ""
    )
    return f"""
<p>{_e(library.name)} er forpligtet til at gøre sine websteder tilgængelige i
overensstemmelse med lov om tilgængelighed af offentlige organers websteder og
mobilapplikationer. Denne erklæring gælder for bibliotekets digitale assistent: chatten på
hjemmesiden, skærmen i biblioteket (kiosken) og siderne om privatliv og tilgængelighed.</p>
{official}
<h2>Overholdelsesstatus</h2>
<p>Den digitale assistent er <strong>delvist i overensstemmelse</strong> med standarden
EN 301 549 og dermed WCAG 2.1 på niveau AA på grund af de afvigelser, der er nævnt
nedenfor.</p>

<h2>Kendte afvigelser</h2>
<ul>
<li>Svarene linker til myndighedernes egne sider (fx borger.dk). Dem har vi ikke ansvar for,
og de kan have deres egne afvigelser.</li>
<li>På skærmen i biblioteket vises links som tekst og kan ikke åbnes, så ingen forlader
kiosken; adressen står i fuld længde, så du kan skrive den af.</li>
<li>Kiosken rydder skærmen efter et stykke tid uden aktivitet. Den advarer først og giver
mulighed for at fortsætte (WCAG 2.2.1), men tiden kan ikke slås fra på skærmen.</li>
<li>Svarene er skrevet i et enkelt sprog, men ikke alle er på niveau med "let læst".</li>
</ul>

<h2>Sådan er erklæringen udarbejdet</h2>
<p>Erklæringen bygger på en egen vurdering: automatiske test med axe-core af chatten,
kiosken og medarbejdernes konsol ved hver ændring, og en manuel gennemgang med tastatur og
skærmlæser. Senest gennemgået {_e(reviewed)}.</p>

<h2>Feedback og kontaktoplysninger</h2>
<p>Oplever du problemer med tilgængeligheden, eller har du brug for oplysningerne i en anden
form, så skriv til <a href="mailto:{_e(email)}">{_e(email)}</a> eller ring på {_e(phone)}.
Vi svarer inden for 14 dage.</p>

<h2>Håndhævelsesprocedure</h2>
<p>Du kan klage over utilgængelighed til Digitaliseringsstyrelsen, som fører tilsyn med
loven. Brug klageformularen på Digitaliseringsstyrelsens hjemmeside om webtilgængelighed.</p>
"""


@router.get("/privatliv")
async def privacy_page(request: Request, tilbage: str | None = None) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    library = load_library(settings.library_config)
    notice = privacy_notice(settings, library)
    return _page("Sådan behandler vi dine oplysninger", library, notice, tilbage)


@router.get("/tilgaengelighed")
async def accessibility_page(request: Request, tilbage: str | None = None) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    library = load_library(settings.library_config)
    return _page("Tilgængelighedserklæring", library, accessibility_statement(library), tilbage)
