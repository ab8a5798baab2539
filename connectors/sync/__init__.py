"""The sync runner shared by every store connector."""
