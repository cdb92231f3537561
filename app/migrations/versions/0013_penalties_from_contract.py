"""late-payment terms from the signed contract; reverse charge on invoices

CGV versions declare their late-interest rule, the article that states it and the recovery
indemnity; billing plans and invoices keep the terms they apply and where they come from;
invoices say whether they were issued under the reverse charge.

Existing versions get the rule their text states (read with a copy of the publication
check, frozen here); a version that states none, or two contradictory ones, gets none (the
rate of Code de commerce L441-10 then applies, and the plan page says so). Existing plans
get the terms of the CGV version their contract was signed under. Issued invoices keep what
they printed: the legal 40 € indemnity and no source (they are immutable).

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-05 01:30:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = '0013'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RULE = sa.Enum(
    'ecb_plus_10', 'three_times_legal', name='lateinterestrule', native_enum=False, length=24
)
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
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.*?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")


def _stated(text: str) -> set[str]:
    flat = " ".join(text.split())
    found = set()
    if _ECB_PLUS_10.search(flat):
        found.add('ecb_plus_10')
    if any(m.group('floor') is None for m in _THREE_TIMES_LEGAL.finditer(flat)):
        found.add('three_times_legal')
    return found


def _declared(body: str) -> tuple[str | None, str | None]:
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    lines = body.splitlines()
    for index, line in enumerate(lines):
        match = _HEADING.match(line)
        underlined = (
            line.strip()
            and index + 1 < len(lines)
            and _UNDERLINE.match(lines[index + 1])
            and not _UNDERLINE.match(line)
        )
        if match:
            sections.append((match.group('title'), []))
        elif underlined:
            sections.append((line.strip(), []))
        sections[-1][1].append(line)
    stated = [(title, rule) for title, lines in sections for rule in _stated("\n".join(lines))]
    if len({rule for _title, rule in stated}) != 1:
        return None, None
    title, rule = stated[0]
    return rule, (title[:200] if title else None)


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, NOT NULL with a default, never altered afterwards: a batch
    # operation would rebuild these tables on SQLite, which rows of other tables reference
    # (foreign keys are on).
    forty = sa.text("'40.00'")
    op.add_column('cgv_versions', sa.Column('late_interest_rule', RULE, nullable=True))
    op.add_column('cgv_versions', sa.Column('penalty_article', sa.String(length=200), nullable=True))
    for table in ('cgv_versions', 'billing_plans', 'invoices'):
        op.add_column(
            table,
            sa.Column('recovery_indemnity', app.db.Amount(), nullable=False, server_default=forty),
        )
    for table in ('billing_plans', 'invoices'):
        op.add_column(
            table,
            sa.Column('penalty_source', sa.String(length=300), nullable=False, server_default=''),
        )
    op.add_column(
        'invoices',
        sa.Column('reverse_charge', sa.Boolean(), nullable=False, server_default=sa.false()),
    )

    bind = op.get_bind()
    cgv = sa.table(
        'cgv_versions',
        sa.column('id', sa.Integer()),
        sa.column('label', sa.String()),
        sa.column('body_markdown', sa.Text()),
        sa.column('late_interest_rule', RULE),
        sa.column('penalty_article', sa.String()),
        sa.column('recovery_indemnity', app.db.Amount()),
    )
    found: dict[int, tuple[str, str | None, str | None]] = {}
    for version_id, label, body in bind.execute(sa.select(cgv.c.id, cgv.c.label, cgv.c.body_markdown)):
        rule, article = _declared(body)
        found[version_id] = (label, rule, article)
        bind.execute(
            cgv.update()
            .where(cgv.c.id == version_id)
            .values(late_interest_rule=rule, penalty_article=article)
        )

    plans = sa.table(
        'billing_plans',
        sa.column('id', sa.Integer()),
        sa.column('contract_id', sa.Integer()),
        sa.column('late_interest_rule', RULE),
        sa.column('recovery_indemnity', app.db.Amount()),
        sa.column('penalty_source', sa.String()),
    )
    versions = sa.table(
        'contract_versions',
        sa.column('contract_id', sa.Integer()),
        sa.column('version', sa.Integer()),
        sa.column('cgv_version_id', sa.Integer()),
        sa.column('status', sa.String()),
    )
    for plan_id, contract_id in bind.execute(sa.select(plans.c.id, plans.c.contract_id)).all():
        cgv_id = bind.execute(
            sa.select(versions.c.cgv_version_id)
            .where(versions.c.contract_id == contract_id, versions.c.status == 'signed')
            .order_by(versions.c.version.desc())
            .limit(1)
        ).scalar()
        label, rule, article = found.get(cgv_id, ('?', None, None)) if cgv_id else ('?', None, None)
        if rule is None:
            source = (
                f"CGV version {label}, muettes sur le taux : taux de l'article L441-10 "
                "du Code de commerce"
            )
        else:
            source = f"CGV version {label}" + (f", article « {article} »" if article else "")
        bind.execute(
            plans.update()
            .where(plans.c.id == plan_id)
            .values(
                late_interest_rule=rule or 'ecb_plus_10',
                penalty_source=source[:300],
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_column('reverse_charge')
        batch_op.drop_column('penalty_source')
        batch_op.drop_column('recovery_indemnity')
    with op.batch_alter_table('billing_plans', schema=None) as batch_op:
        batch_op.drop_column('penalty_source')
        batch_op.drop_column('recovery_indemnity')
    with op.batch_alter_table('cgv_versions', schema=None) as batch_op:
        batch_op.drop_column('recovery_indemnity')
        batch_op.drop_column('penalty_article')
        batch_op.drop_column('late_interest_rule')
