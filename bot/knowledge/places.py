"""A question that names a town prefers the services that serve that town.

A question naming a community inside a municipality (region.yaml lists each municipality with
the communities people name, like a village inside a township) is read as naming that
municipality; the card then shows the services whose `municipalities` include it (or the
whole region, or say nothing), and leaves out those that list other towns only. When no linked
service serves the town named, or no town is named, every linked service is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.knowledge.model import EVERYWHERE, Faq, KnowledgeBase, Region, Service


def serves(service: Service, places: Sequence[str]) -> bool:
    """True when the service serves one of the places (a service naming no area serves all)."""
    areas = set(service.municipalities)
    return not areas or EVERYWHERE in areas or bool(areas & set(places))


def for_places(services: Sequence[Service], places: Sequence[str]) -> list[Service]:
    """The services to show for a question naming these places, in their written order."""
    if not places:
        return list(services)
    local = [s for s in services if serves(s, places)]
    named = [s for s in local if set(s.municipalities) & set(places)]
    return local if named else list(services)


def places_of(question: str, region: Region) -> tuple[str, ...]:
    """The region's municipalities a question names, directly or by a community in them."""
    return tuple(region.places_in(question))


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
