-- 0005: who acknowledged or dismissed an alert, next to when (acknowledged_at, dismissed_at): the actor as the
-- audit log names it, `mqtt` for a Home Assistant command, `api` or `api:ingress` for the HTTP API. Acknowledged
-- and dismissed are final and exclusive, so at most one of the two is set. Alerts resolved before this migration
-- take their actor from the audit log while it still holds the row (retention may have pruned it: null then).
-- Plain SQL that runs unchanged on PostgreSQL 15+ and PGlite. Applied in one transaction by src/storage/migrate.ts.

ALTER TABLE alerts ADD COLUMN acknowledged_by text;
ALTER TABLE alerts ADD COLUMN dismissed_by text;

UPDATE alerts a SET acknowledged_by = (
  SELECT l.actor FROM audit_logs l
  WHERE l.action = 'alert.acknowledge' AND l.resource_type = 'alert' AND l.resource_id = a.id::text
  ORDER BY l.id DESC LIMIT 1
) WHERE a.status = 'acknowledged';
UPDATE alerts a SET dismissed_by = (
  SELECT l.actor FROM audit_logs l
  WHERE l.action = 'alert.dismiss' AND l.resource_type = 'alert' AND l.resource_id = a.id::text
  ORDER BY l.id DESC LIMIT 1
) WHERE a.status = 'dismissed';
