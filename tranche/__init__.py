"""tranche: decide, explain and plan conditional military assistance."""
