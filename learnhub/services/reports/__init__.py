"""What secretaries and organisers see: completion, mastery, tallies, trends, item analysis, exports."""
