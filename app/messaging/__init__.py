"""Messaging: the outbox and its delivery, events and templates, providers, the log.

It knows no domain: who is told of what is decided by the domain whose event it is
(app/ordering/notify.py for orders, app/members/services.py for account news),
which writes through outbox.write_message / outbox.tell_customer.
"""
