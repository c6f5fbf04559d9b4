// Console settings (the RTO target drills are measured against), each change audited.
import { getDb } from '../db';
import { writeAudit, type Actor } from '../audit/write-audit';
import { RTO_KEY, rtoSeconds } from '../restores/restore-history';

export async function getSettings() {
  return { rtoSeconds: await rtoSeconds() };
}

export async function updateSettings(actor: Actor, input: { rtoSeconds: number }, ip: string | null) {
  await getDb().$transaction(async (tx) => {
    await tx.setting.upsert({ where: { key: RTO_KEY }, create: { key: RTO_KEY, value: input.rtoSeconds }, update: { value: input.rtoSeconds } });
    await writeAudit(tx, actor, 'settings.update', { entityType: 'settings', params: input, ip });
  });
  return getSettings();
}
