"""The store's goals: the four success measures against a baseline period, with targets, progress and pacing."""
