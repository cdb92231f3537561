"""Pages that gather several features for one client or one quote. They sit above clients,
quotes, contracts, clauses and terms, so that none of those imports another to show it."""
