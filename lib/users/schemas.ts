// Validation for user changes, shared by the API and the forms.
import { z } from 'zod';
import { passwordRule } from '../auth/password-rule';

export const roleSchema = z.enum(['viewer', 'operator', 'admin']);

export const createUserSchema = z.object({
  email: z.email({ message: 'must be an email address' }).trim().toLowerCase(),
  name: z.string().trim().min(1, 'is required').max(100),
  role: roleSchema,
  password: z.string().min(passwordRule.min, passwordRule.message).max(200),
});

export const updateUserSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    role: roleSchema.optional(),
    disabled: z.boolean().optional(),
    password: z.string().min(passwordRule.min, passwordRule.message).max(200).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'Nothing to change.');
