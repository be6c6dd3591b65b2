"""Capture, for the visitor: the consent cookie and its state, decisions and the form and JSON
API that make them, the settings page, receipts and the CSRF failure page.

It may use the enforcement's registry and the log (a decision is a record), never the audit."""
