"""Feed ranking. Feeds are newest-first for now; ranked mode arrives with engagement data."""
