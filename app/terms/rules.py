"""Which CGV version binds a client on a given date: pure decisions, no database.

The rule (see issue 5):
- a version binds a client only once it is in force (effective date reached);
- a version the client ACCEPTED (contract signature, click-through, account creation) binds it
  from the acceptance date (or from the effective date, if accepted ahead of it);
- a MINOR version (wording only) also binds it once the client was NOTIFIED of it by email and
  it is in force — but only on top of what the client already agreed to: a minor version that
  follows a material version the client never accepted does not bind it (it carries that
  material change), and a client that never accepted anything is bound by nothing;
- a MATERIAL version binds it only once accepted. Until then the client stays bound by its
  last opposable version.

Versions are ordered by (effective date, id): the order in which they were published, since
the service refuses an effective date before the previous version's. Among the versions that
bind the client on a date, the latest in that order wins: accepting an older version again
(e.g. signing a contract generated before the new version) never moves the client backwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.messages import msg
from app.rendering.french import article_reference
from app.terms.models import LateInterestRule, VersionKind


@dataclass(frozen=True)
class VersionFacts:
    id: int
    label: str
    kind: VersionKind
    effective_date: date


@dataclass(frozen=True)
class ClientFacts:
    """What happened between one client and the versions: business dates (Europe/Paris)."""

    accepted_on: Mapping[int, Iterable[date]]  # version id → dates of its acceptances
    notified_on: Mapping[int, date]  # version id → date the notification email went out


def _ordered(versions: Iterable[VersionFacts]) -> list[VersionFacts]:
    return sorted(versions, key=lambda v: (v.effective_date, v.id))


def opposable_version(
    versions: Iterable[VersionFacts], client: ClientFacts, at: date
) -> VersionFacts | None:
    """The version that binds the client on `at`, or None if none does."""
    bound: VersionFacts | None = None
    material_since_bound = False  # a material version the client skipped since `bound`
    for version in _ordered(versions):
        if version.effective_date > at:
            break
        accepted = any(d <= at for d in client.accepted_on.get(version.id, ()))
        notified = client.notified_on.get(version.id)
        if accepted:
            bound, material_since_bound = version, False
        elif (
            version.kind is VersionKind.MINOR
            and notified is not None
            and notified <= at
            and bound is not None
            and not material_since_bound
        ):
            bound = version
        elif version.kind is VersionKind.MATERIAL:
            material_since_bound = True
    return bound


def how_bound(
    versions: Iterable[VersionFacts], client: ClientFacts, at: date
) -> tuple[VersionFacts | None, str]:
    """The opposable version and, in French, why it binds the client."""
    version = opposable_version(versions, client, at)
    if version is None:
        return None, msg("Aucune version acceptée à cette date.")
    if any(d <= at for d in client.accepted_on.get(version.id, ())):
        return version, ACCEPTED_REASON
    return version, "version mineure notifiée par courriel et en vigueur"


# Why a version binds a client it was accepted by; the client space says it to the client in the
# second person instead.
ACCEPTED_REASON = "version acceptée par le client"


def latest_material(versions: Iterable[VersionFacts], at: date) -> VersionFacts | None:
    """The latest material version in force on `at` (the one every client should accept)."""
    found = None
    for version in _ordered(versions):
        if version.effective_date > at:
            break
        if version.kind is VersionKind.MATERIAL:
            found = version
    return found


def is_older(version: VersionFacts | None, than: VersionFacts) -> bool:
    """True if `version` comes before `than` in publication order (None is older than all)."""
    if version is None:
        return True
    return (version.effective_date, version.id) < (than.effective_date, than.id)


# --- Article-level comparison of two versions ------------------------------------------------

ARTICLE_LEVEL = 2
"""Headings of level 1 and 2 (``#``/``##`` or underlined with ``===``/``---``) start an
article; deeper headings (``### 7.1``) stay inside theirs."""

PREAMBLE = "(avant le premier titre)"


@dataclass(frozen=True)
class Article:
    title: str
    text: str  # the article's Markdown source, heading included


def split_articles(markdown: str) -> list[Article]:
    """Cut a CGV body into articles at its level-1/2 headings (CommonMark, both styles)."""
    from markdown_it import MarkdownIt

    lines = markdown.splitlines()
    tokens = MarkdownIt("commonmark").parse(markdown)
    starts: list[tuple[int, str]] = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and int(token.tag[1]) <= ARTICLE_LEVEL and token.map:
            starts.append((token.map[0], tokens[i + 1].content.strip()))
    articles: list[Article] = []
    if not starts or starts[0][0] > 0:
        head = "\n".join(lines[: starts[0][0] if starts else len(lines)])
        if head.strip():
            articles.append(Article(PREAMBLE, head.strip("\n")))
    for n, (start, title) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        articles.append(Article(title, "\n".join(lines[start:end]).strip("\n")))
    return articles


def _key(title: str) -> str:
    return " ".join(title.casefold().split())


# --- What a version says of late payment ------------------------------------------------------

LEGAL_MINIMUM_INDEMNITY = Decimal("40.00")  # Code de commerce D441-5, per unpaid invoice

_ECB_PLUS_10 = re.compile(
    r"(banque\s+centrale\s+europ[ée]enne|\bBCE\b)[^.]{0,250}?"
    r"(major[ée]e?s?|augment[ée]e?s?|plus|\+)\s*(de\s+)?(dix|10)\s*(\(10\)\s*)?points?",
    re.IGNORECASE,
)
_THREE_TIMES_LEGAL = re.compile(
    r"(?P<floor>(inf[ée]rieure?s?|moins)\s+(à|de)\s+)?"
    r"(trois|3)\s*(\(3\)\s*)?fois\s+(le\s+)?taux\s+(de\s+l['’]\s*|d['’]\s*)?"
    r"int[ée]r[êe]ts?\s+l[ée]gal",
    re.IGNORECASE,
)


def stated_rule(text: str) -> set[LateInterestRule]:
    """The late-interest rules a passage states. "ECB + 10 points, never less than three
    times the legal rate" states ECB + 10 (the floor is the law's, L441-10): a "three times"
    preceded by "inférieur à" / "moins de" is a floor, not a rule."""
    found: set[LateInterestRule] = set()
    flat = " ".join(text.split())
    if _ECB_PLUS_10.search(flat):
        found.add(LateInterestRule.ECB_PLUS_10)
    if any(m.group("floor") is None for m in _THREE_TIMES_LEGAL.finditer(flat)):
        found.add(LateInterestRule.THREE_TIMES_LEGAL)
    return found


@dataclass(frozen=True)
class Section:
    title: str
    text: str


def sections(markdown: str) -> list[Section]:
    """The body cut at every heading, whatever its level (``### 7.3. Pénalités``): the
    smallest unit a penalty rule can be cited by."""
    from markdown_it import MarkdownIt

    lines = markdown.splitlines()
    tokens = MarkdownIt("commonmark").parse(markdown)
    starts = [
        (token.map[0], tokens[i + 1].content.strip())
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and token.map
    ]
    found = []
    if not starts or starts[0][0] > 0:
        found.append(Section(PREAMBLE, "\n".join(lines[: starts[0][0] if starts else None])))
    for n, (start, title) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        found.append(Section(title, "\n".join(lines[start:end])))
    return found


@dataclass(frozen=True)
class PenaltyDeclaration:
    """What legal declares at publication: the rule (None: the version states none), the
    article that states it, the recovery indemnity per unpaid invoice."""

    rule: LateInterestRule | None
    article: str | None
    indemnity: Decimal = LEGAL_MINIMUM_INDEMNITY
    from_text: bool = False  # rule and article read from the text (``stated_penalties``)


@dataclass(frozen=True)
class StatedPenalties:
    """What a version states: the rule (None when it states none) and where."""

    rule: LateInterestRule | None
    article: str | None


def stated_penalties(markdown: str) -> tuple[StatedPenalties, str | None]:
    """The rule the body states and the article that states it, or a problem (French) when
    two articles state different rules: a contract cannot say both."""
    stated = [(s.title, rule) for s in sections(markdown) for rule in stated_rule(s.text)]
    rules = {rule for _title, rule in stated}
    if len(rules) > 1:
        where = " ; ".join(f"« {title} » : {rule.label}" for title, rule in stated)
        return StatedPenalties(None, None), msg(
            "Le texte énonce deux taux de pénalités de retard contradictoires ({where}).",
            where=where,
        )
    if not stated:
        return StatedPenalties(None, None), None
    title, rule = stated[0]
    return StatedPenalties(rule, None if title == PREAMBLE else title), None


def find_section(markdown: str, article: str) -> Section | None:
    """The section an article reference designates: its whole title, or the start of it
    (« 7.3 » designates « 7.3. PÉNALITÉS DE RETARD »), case and spaces aside."""
    wanted = _key(article).rstrip(".")
    for section in sections(markdown):
        title = _key(section.title)
        # « 7 » designates « 7. Prix » but not « 7.3. Pénalités » nor « 71. Divers »
        if title.startswith(wanted) and _END_OF_NUMBER.match(title[len(wanted) :]):
            return section
    return None


_END_OF_NUMBER = re.compile(r"[.)]?(\s|$)")


def declared_penalty_problems(
    markdown: str, rule: LateInterestRule | None, article: str | None, indemnity: Decimal
) -> dict[str, str]:
    """What is wrong with a declaration made at publication, by field: the article must
    exist and state the declared rule; a version declared silent must state no rule; the
    indemnity is at least the legal 40 €."""
    problems: dict[str, str] = {}
    stated, conflict = stated_penalties(markdown)
    if conflict:
        problems["late_interest_rule"] = conflict
    elif article:
        section = find_section(markdown, article)
        if section is None:
            problems["penalty_article"] = msg(
                "Aucun {article} dans le texte des CGV.", article=article_reference(article)
            )
        elif rule is None:
            problems["late_interest_rule"] = msg("Choisissez le taux que cet article énonce.")
        elif rule not in stated_rule(section.text):
            problems["penalty_article"] = msg(
                "L'{article} n'énonce pas ce taux ({rule_label}).",
                article=article_reference(section.title),
                rule_label=rule.label,
            )
    elif rule is not None:
        problems["penalty_article"] = msg("Indiquez l'article des CGV qui énonce ce taux.")
    elif stated.rule is not None:
        problems["late_interest_rule"] = msg(
            "Le texte énonce un taux ({stated_rule_label}{where}) : déclarez-le.",
            stated_rule_label=stated.rule.label,
            where=f", {article_reference(stated.article)}" if stated.article else "",
        )
    if problem := indemnity_problem(indemnity):
        problems["recovery_indemnity"] = problem
    return problems


def indemnity_problem(indemnity: Decimal) -> str | None:
    """The recovery indemnity is an amount in euros of at least the legal 40 € (D441-5)."""
    if not indemnity.is_finite():
        return msg("Montant en euros attendu (ex. 40 ou 40,00).")
    if indemnity < LEGAL_MINIMUM_INDEMNITY:
        return msg(
            "L'indemnité forfaitaire pour frais de recouvrement est d'au moins 40 € "
            "(article D441-5 du Code de commerce)."
        )
    if indemnity > Decimal("10000") or indemnity != indemnity.quantize(Decimal("0.01")):
        return msg("Montant en euros, au centime près (au plus 10 000 €).")
    return None
