"""The fixture factory: seeded generation of labelled, phone-like work-order photos (see make_fixtures.py)."""
