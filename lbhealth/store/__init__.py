"""Where the state that readers serve lives: admin state (drain/maint) and check verdicts.

In-process today (memory, plus the admin state file); the room where a shared
store goes, so that several lbhealth instances can serve as one.
"""
