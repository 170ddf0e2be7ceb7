import type { Generated, Insertable, Selectable } from 'kysely';
import type { AlertStatus } from '../../domain/alert-lifecycle.js';
import type { HouseMode } from '../../domain/arming.js';
import type { RiskLevel } from '../../domain/risk.js';

export type AlertRuleSource = 'default' | 'config' | 'api';

export interface AlertRuleTable {
  id: Generated<string>;
  name: string;
  description: string | null;
  enabled: Generated<boolean>;
  severity: Generated<RiskLevel>;
  risk_threshold: number | null;
  object_types: string[] | null;
  camera_ids: string[] | null;
  zone_ids: string[] | null;
  min_confidence: number | null;
  /** A Schedule as JSON. */
  schedule: unknown | null;
  house_modes: HouseMode[] | null;
  require_armed_zone: Generated<boolean>;
  unknown_person: Generated<boolean>;
  person_ids: number[] | null;
  ignore_trusted: Generated<boolean>;
  dedup_key_template: string | null;
  cooldown_seconds: Generated<number>;
  channels: Generated<string[]>;
  source: Generated<AlertRuleSource>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AlertTable {
  id: Generated<string>;
  event_id: number;
  rule_id: string | null;
  severity: RiskLevel;
  status: Generated<AlertStatus>;
  dedup_key: string;
  message: string;
  channels: Generated<string[]>;
  metadata: unknown | null;
  /** Optimistic lock: bumped by every status change. */
  version_id: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  delivered_at: Date | null;
  acknowledged_at: Date | null;
  dismissed_at: Date | null;
  /** Who acknowledged it (`mqtt`, `api`, `api:ingress`); null while not acknowledged. */
  acknowledged_by: Generated<string | null>;
  /** Who dismissed it; null while not dismissed. */
  dismissed_by: Generated<string | null>;
}

export type AlertRuleRow = Selectable<AlertRuleTable>;
export type NewAlertRuleRow = Insertable<AlertRuleTable>;
export type AlertRow = Selectable<AlertTable>;
export type NewAlertRow = Insertable<AlertTable>;
