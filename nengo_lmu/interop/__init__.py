"""Exchanging nengo_lmu networks with other frameworks."""
