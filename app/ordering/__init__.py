"""Ordering: the cart, checkout, the order workflow table and what its actions do, who
sees which order and member, the lists of every end, delivery, refunds, the history in
each audience's words, and who hears of an order's events."""
