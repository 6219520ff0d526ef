"""What every domain stands on: parsing of request values, and (as the house grows)
security, accounts, settings, uploads and errors."""
