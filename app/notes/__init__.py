"""Notes and sharing with one's doctor: the criteria checklist, private notes, and
passcode-protected share links."""
