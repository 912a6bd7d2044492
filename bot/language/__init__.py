"""Danish language helpers without a downloaded model: folding, lemmas, dates, CPR numbers."""
