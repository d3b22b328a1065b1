/** Keystone's ids: 32 hex characters. */
import { randomUUID } from 'node:crypto';

export const newId = (): string => randomUUID().replace(/-/g, '');
