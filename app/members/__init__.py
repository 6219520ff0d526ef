"""People: customers (sign-up with SMS codes, the shop profile, approval, price levels)
and staff (salesmen and drivers in their business regions, referral codes)."""
