"""A question that names a town prefers the services that serve that town.

"How do I register my child for school in Bowmanville" names Clarington, where the Kawartha
Pine Ridge and PVNC Catholic boards serve families, not the Durham boards: the card then shows
the services whose `municipalities` include Clarington (or all of Durham, or say nothing), and
leaves out those that list other towns only. When no linked service serves the town named, or
no town is named, every linked service is shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.knowledge.model import ALL_DURHAM, Faq, KnowledgeBase, Service

# Where a question mentions a place, the need is tagged with the municipality.
PLACES: dict[str, str] = {
    "ajax": "Ajax",
    "pickering": "Pickering",
    "whitby": "Whitby",
    "brooklin": "Whitby",
    "oshawa": "Oshawa",
    "clarington": "Clarington",
    "bowmanville": "Clarington",
    "courtice": "Clarington",
    "newcastle": "Clarington",
    "orono": "Clarington",
    "scugog": "Scugog",
    "port perry": "Scugog",
    "uxbridge": "Uxbridge",
    "brock": "Brock",
    "beaverton": "Brock",
    "cannington": "Brock",
    "sunderland": "Brock",
}
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def places_in(text: str) -> list[str]:
    """The municipalities a text mentions ("Bowmanville" is Clarington)."""
    words = f" {_NOT_WORD.sub(' ', text.casefold())} "
    return sorted({name for place, name in PLACES.items() if f" {place} " in words})


def serves(service: Service, places: Sequence[str]) -> bool:
    """True when the service serves one of the places (a service naming no area serves all)."""
    areas = set(service.municipalities)
    return not areas or ALL_DURHAM in areas or bool(areas & set(places))


def for_places(services: Sequence[Service], places: Sequence[str]) -> list[Service]:
    """The services to show for a question naming these places, in their written order."""
    if not places:
        return list(services)
    local = [s for s in services if serves(s, places)]
    named = [s for s in local if set(s.municipalities) & set(places)]
    return local if named else list(services)


def places_of(question: str) -> tuple[str, ...]:
    """The Durham municipalities a question names ("Bowmanville" is Clarington)."""
    return tuple(places_in(question))


def services_shown(
    knowledge: KnowledgeBase, entry_id: str, towns: Sequence[str] = ()
) -> list[Service]:
    """The services whose contacts an answer shows: the one place that decides it, so the
    referral counts partners give funders are exactly what people saw on their cards."""
    entry = knowledge.entry(entry_id)
    if isinstance(entry, Faq):
        linked = [knowledge.services[s] for s in entry.services if s in knowledge.services]
        return for_places(linked, towns)
    if isinstance(entry, Service):
        return [entry]
    return []
