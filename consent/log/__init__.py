"""The proof: the signed transparency log and what feeds it.

Generic and Django-free (`merkle`, `tiles`, `note`): RFC 9162 trees, C2SP tiles and signed
notes. In PostgreSQL (`models`, `store`) with its public endpoints (`views`, `urls`). Feeding it:
`records` appends a decision, `entries` turns records into leaves, `integration` puts them in the
tree. The offline tools (`receipt`, `auditor`, `exportproof`) need no Django.

It imports nothing of capture, enforcement or audit (a contract in pyproject.toml)."""
