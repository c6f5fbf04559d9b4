// Console settings (the RTO target drills are measured against), each change audited.
import { getDb } from '../db';
import { writeAudit, type Actor } from '../audit/write-audit';
import { requireSecondAdmin, RTO_KEY, rtoSeconds, SECOND_ADMIN_KEY } from '../restores/restore-history';

export async function getSettings() {
  return { rtoSeconds: await rtoSeconds(), requireSecondAdmin: await requireSecondAdmin() };
}

export async function updateSettings(actor: Actor, input: { rtoSeconds?: number; requireSecondAdmin?: boolean }, ip: string | null) {
  await getDb().$transaction(async (tx) => {
    if (input.rtoSeconds !== undefined) await tx.setting.upsert({ where: { key: RTO_KEY }, create: { key: RTO_KEY, value: input.rtoSeconds }, update: { value: input.rtoSeconds } });
    if (input.requireSecondAdmin !== undefined) {
      await tx.setting.upsert({ where: { key: SECOND_ADMIN_KEY }, create: { key: SECOND_ADMIN_KEY, value: input.requireSecondAdmin }, update: { value: input.requireSecondAdmin } });
    }
    await writeAudit(tx, actor, 'settings.update', { entityType: 'settings', params: input, ip });
  });
  return getSettings();
}
