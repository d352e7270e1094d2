"""The merchandiser's additions to the taxonomy: a new attribute with its Chinese name (a colour "teal",
a material "velvet"), or more words for one that exists ("denim blue" is cobalt). Stored in the
database, so the workspace's taxonomy is the shipped file plus these rows (`app.workspace._taxonomy`),
and every stored series the language module read is read again with the new words."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from generation.errors import TaxonomyError
from generation.language.extract import ProductLanguage
from generation.taxonomy import AttributeAddition, Taxonomy, check_addition, extended

from app.errors import Invalid
from app.models import TaxonomyAddition
from app.services import trends


@dataclass(frozen=True)
class Added:
    kind: str
    name: str
    new: bool  # a new attribute (False: words added to one that exists)
    remapped: int  # stored series whose mapping changed with the new words


def add_attribute(session: Session, taxonomy: Taxonomy, add: AttributeAddition) -> Added:
    """Store `add` and re-read the stored series with it. Invalid (saying what is allowed) if the kind,
    name, Chinese name, categories or colour value are wrong. The caller reloads the workspace's
    taxonomy after the transaction commits (`Workspace.reload_taxonomy`)."""
    add = AttributeAddition(add.kind, add.name.strip().lower(), add.zh.strip(),
                            tuple(dict.fromkeys(s.strip() for s in add.synonyms if s.strip())), add.categories, add.rgb)
    try:
        check_addition(taxonomy, add)
    except TaxonomyError as exc:
        raise Invalid(str(exc)) from None
    new = add.name not in taxonomy.attributes[add.kind]
    row = session.scalars(select(TaxonomyAddition).where(TaxonomyAddition.kind == add.kind,
                                                         TaxonomyAddition.name == add.name)).one_or_none()
    if row is None:
        row = TaxonomyAddition(kind=add.kind, name=add.name, zh=add.zh, synonyms=list(add.synonyms),
                               categories=list(add.categories) if add.categories is not None else None, rgb=add.rgb)
        session.add(row)
    else:
        row.synonyms = list(dict.fromkeys([*row.synonyms, *add.synonyms]))
    grown = extended(taxonomy, [add])
    remapped = trends.remap(session, grown, ProductLanguage(grown))
    return Added(add.kind, add.name, new, remapped)
