"""Sleep-time consolidation: merge, supersede, summarise and fade memories, as undoable changesets.
"""
