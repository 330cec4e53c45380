"""The live history's bookkeeping: coverage per source, the sync runs, and merging a synced file.

`coverage` holds, per source, the date through which the history is
complete (the data cutoff is the latest); `sync_runs` records every sync;
`sync_merge` merges a synced CSIS file into the events by id.
"""
