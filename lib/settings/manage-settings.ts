// Console settings (the RTO target drills are measured against, four-eyes approvals), each change audited. Switching
// four eyes off needs a second admin too: otherwise the one admin it guards against could switch it off and act alone.
import { getDb } from '../db';
import { writeAudit, type Actor } from '../audit/write-audit';
import type { Role } from '../auth/roles';
import { APPROVAL_EXPIRY_KEY, approvalExpiryHours, requireSecondAdmin, RTO_KEY, rtoSeconds, SECOND_ADMIN_KEY } from '../restores/restore-history';
import { requestApproval } from '../restores/approval-requests';

export async function getSettings() {
  return { rtoSeconds: await rtoSeconds(), requireSecondAdmin: await requireSecondAdmin(), approvalExpiryHours: await approvalExpiryHours() };
}

export interface SettingsInput {
  rtoSeconds?: number;
  requireSecondAdmin?: boolean;
  approvalExpiryHours?: number;
}

export async function updateSettings(actor: Actor & { role: Role }, input: SettingsInput, ip: string | null) {
  const switchingOff = input.requireSecondAdmin === false && (await requireSecondAdmin());
  const applied: SettingsInput = { ...input };
  if (switchingOff) delete applied.requireSecondAdmin;
  const pending = await getDb().$transaction(async (tx) => {
    if (applied.rtoSeconds !== undefined) await tx.setting.upsert({ where: { key: RTO_KEY }, create: { key: RTO_KEY, value: applied.rtoSeconds }, update: { value: applied.rtoSeconds } });
    if (applied.requireSecondAdmin !== undefined) {
      await tx.setting.upsert({ where: { key: SECOND_ADMIN_KEY }, create: { key: SECOND_ADMIN_KEY, value: applied.requireSecondAdmin }, update: { value: applied.requireSecondAdmin } });
    }
    if (applied.approvalExpiryHours !== undefined) {
      await tx.setting.upsert({ where: { key: APPROVAL_EXPIRY_KEY }, create: { key: APPROVAL_EXPIRY_KEY, value: applied.approvalExpiryHours }, update: { value: applied.approvalExpiryHours } });
    }
    if (Object.keys(applied).length) await writeAudit(tx, actor, 'settings.update', { entityType: 'settings', params: { ...applied }, ip });
    return switchingOff ? requestApproval(actor, 'settings', { requireSecondAdmin: false }, { targetId: null, database: '' }, ip, tx) : null;
  });
  // pendingRequest: switching four eyes off waits for another admin; the rest of the change applied at once.
  return { settings: await getSettings(), pendingRequest: pending };
}
