"""Who may do what. One table, read by every route's guard and by the access-matrix test."""

from __future__ import annotations

from enum import StrEnum

from app.auth.models import Role


class Permission(StrEnum):
    VIEW_CLIENTS = "view_clients"
    MANAGE_CLIENTS = "manage_clients"
    MANAGE_QUOTES = "manage_quotes"
    GENERATE_CONTRACTS = "generate_contracts"
    SEND_FOR_SIGNATURE = "send_for_signature"
    VIEW_CONTRACTS = "view_contracts"
    VIEW_CGV = "view_cgv"
    PUBLISH_CGV = "publish_cgv"
    MANAGE_USERS = "manage_users"
    MANAGE_CATALOGUE = "manage_catalogue"
    MANAGE_CLAUSES = "manage_clauses"
    MANAGE_API_TOKENS = "manage_api_tokens"
    VIEW_INVOICES = "view_invoices"
    ISSUE_INVOICES = "issue_invoices"
    RECORD_PAYMENTS = "record_payments"
    MANAGE_PRICE_INDICES = "manage_price_indices"
    OPERATE_SIGNATURES = "operate_signatures"
    MANAGE_WEBHOOKS = "manage_webhooks"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SALES: frozenset(
        {
            Permission.VIEW_CLIENTS,
            Permission.MANAGE_CLIENTS,
            Permission.MANAGE_QUOTES,
            Permission.GENERATE_CONTRACTS,
            Permission.SEND_FOR_SIGNATURE,
            Permission.VIEW_CONTRACTS,
            Permission.VIEW_CGV,
            Permission.VIEW_INVOICES,
            Permission.ISSUE_INVOICES,
            Permission.RECORD_PAYMENTS,
        }
    ),
    Role.LEGAL: frozenset(
        {
            Permission.VIEW_CLIENTS,
            Permission.VIEW_CONTRACTS,
            Permission.VIEW_CGV,
            Permission.PUBLISH_CGV,
            Permission.MANAGE_CLAUSES,
        }
    ),
    # Archivists work through the API with scoped tokens; on the web they only read.
    Role.ARCHIVIST: frozenset(
        {Permission.VIEW_CLIENTS, Permission.VIEW_CONTRACTS, Permission.VIEW_CGV}
    ),
    # Administrators manage people and tokens; they do not sell or sign in anyone's name.
    # Administrators also issue one-off invoices (and see them), like sales.
    Role.ADMIN: frozenset(
        {
            Permission.MANAGE_USERS,
            Permission.VIEW_CGV,
            Permission.MANAGE_CATALOGUE,
            Permission.MANAGE_API_TOKENS,
            Permission.VIEW_INVOICES,
            Permission.ISSUE_INVOICES,
            Permission.RECORD_PAYMENTS,
            Permission.MANAGE_PRICE_INDICES,
            Permission.OPERATE_SIGNATURES,
            Permission.MANAGE_WEBHOOKS,
        }
    ),
}


def can(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
