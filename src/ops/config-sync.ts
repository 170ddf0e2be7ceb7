import type { Config } from '../config/schema.js';
import { DEFAULT_ALERT_RULES, DEFAULT_COOLDOWN_SECONDS } from '../domain/alert-rules.js';
import type { HouseMode } from '../domain/arming.js';
import type { Weekday } from '../domain/schedule.js';
import { validateZoneShape, type ZoneType } from '../domain/zones.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { seedDefaultRules, upsertRuleByName } from '../storage/alert-rule.repository.js';
import { ensureCamera } from '../storage/camera.repository.js';
import type { Db } from '../storage/database.js';
import { removeConfigZonesNotIn, upsertZoneByName } from '../storage/zone.repository.js';

/**
 * Brings the zones and alert rules declared in the configuration into the database, by name, at start: new ones
 * are created, changed ones updated, configured zones removed from the file are deleted. Zones and rules made
 * through the API are left alone, and so is each zone's arm switch (Home Assistant owns it).
 */
export async function syncConfiguration(db: Db, config: Config, log: Logger): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (const zone of config.zones) {
      const shape = validateZoneShape(
        { kind: 'polygon', points: zone.polygon },
        `zones[${zone.camera_id}/${zone.name}]`,
      );
      if (!shape.ok) throw new AppError('CONFIG_INVALID', `zone ${zone.name}: ${shape.errors.join('; ')}`);
      // A zone may be configured before its camera's first upload: create the camera so the zone can refer to it.
      await ensureCamera(tx, {
        id: zone.camera_id,
        name: zone.camera_id,
        folderPath: zone.camera_id,
        placeholder: true,
      });
      await upsertZoneByName(tx, {
        cameraId: zone.camera_id,
        name: zone.name,
        zoneType: zone.zone_type as ZoneType,
        shape: shape.shape,
        color: zone.color,
        enabled: zone.enabled,
        priority: zone.priority,
        source: 'config',
      });
    }
    const removed = await removeConfigZonesNotIn(
      tx,
      config.zones.map((z) => ({ cameraId: z.camera_id, name: z.name })),
    );
    if (removed.length > 0) log.info({ zones: removed }, 'zones removed from the configuration deleted');
    if (config.alerts.default_rules) {
      const seeded = await seedDefaultRules(tx, DEFAULT_ALERT_RULES);
      if (seeded.length > 0) log.info({ rules: seeded.map((r) => r.name) }, 'default alert rules created');
    }
    for (const rule of config.alerts.rules) {
      await upsertRuleByName(tx, {
        name: rule.name,
        enabled: rule.enabled,
        severity: rule.severity,
        riskThreshold: rule.risk_threshold ?? null,
        cameraIds: rule.camera_ids ?? null,
        zoneIds: rule.zone_ids ?? null,
        objectTypes: rule.object_types ?? null,
        minConfidence: rule.min_confidence ?? null,
        schedule:
          rule.schedule === undefined || rule.schedule === null
            ? null
            : {
                start: rule.schedule.start,
                end: rule.schedule.end,
                ...(rule.schedule.days ? { days: rule.schedule.days as Weekday[] } : {}),
                ...(rule.schedule.timezone ? { timezone: rule.schedule.timezone } : {}),
              },
        houseModes: (rule.house_modes as HouseMode[] | undefined) ?? null,
        requireArmedZone: rule.require_armed_zone,
        unknownPerson: rule.unknown_person,
        personIds: rule.person_ids ?? null,
        ignoreTrusted: rule.ignore_trusted,
        dedupKeyTemplate: rule.dedup_key_template ?? null,
        cooldownSeconds: rule.cooldown_seconds ?? config.alerts.cooldown_seconds ?? DEFAULT_COOLDOWN_SECONDS,
        source: 'config',
      });
    }
  });
}
