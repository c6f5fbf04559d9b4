-- Sessions signed in before a user's last password change are refused (lib/auth/session.ts).
ALTER TABLE "users" ADD COLUMN "password_changed_at" TIMESTAMPTZ(3);
