// The password rule, importable by browser code (no hashing library here).
export const passwordRule = { min: 12, message: 'Passwords need at least 12 characters.' };
