-- 0006: remove media_aliases rows that name their own media file's path. Before issue 11 #8a was fixed, the same
-- file seen twice (listed again, or touched and reconciled at start) was recorded as a duplicate of itself. A real
-- duplicate (the same bytes under another path) keeps its alias.
-- Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite. Applied in one transaction by src/storage/migrate.ts.

DELETE FROM media_aliases a
USING media_files m
WHERE a.media_file_id = m.id AND a.path = m.path;
