/**
 * Glance's property protections (`property-protections-roles.conf`): INI sections named by a
 * regular expression over property names, each giving `create`, `read`, `update` and `delete` a
 * comma-separated list of roles, `@` (anyone) or `!` (no one). The first section whose expression
 * matches a property decides; a property no section matches, or an operation a section leaves out,
 * is refused, as Glance refuses them. No I/O: the API reads the file and hands the text here.
 */
import { BadRequestError } from './errors.js';

export const PROTECTION_OPS = ['create', 'read', 'update', 'delete'] as const;
export type ProtectionOp = (typeof PROTECTION_OPS)[number];

interface Rule {
  pattern: RegExp;
  /** Lower-case roles per operation; `@` anyone, `!` (or absent) no one. */
  ops: Partial<Record<ProtectionOp, string[]>>;
}

export class PropertyProtections {
  private constructor(private readonly rules: readonly Rule[]) {}

  /** Parses the rules file; a malformed one is an error at start, never a silent open door. */
  static parse(text: string): PropertyProtections {
    const rules: Rule[] = [];
    let current: Rule | undefined;
    for (const [i, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      const section = /^\[(.+)\]$/.exec(line);
      if (section) {
        let pattern: RegExp;
        try {
          pattern = new RegExp(section[1]!);
        } catch {
          throw new BadRequestError(`property protections line ${i + 1}: '${section[1]}' is not a regular expression`);
        }
        current = { pattern, ops: {} };
        rules.push(current);
        continue;
      }
      const kv = /^([A-Za-z]+)\s*[=:]\s*(.*)$/.exec(line);
      if (!kv || !current) throw new BadRequestError(`property protections line ${i + 1}: expected '[regex]' or 'operation = roles'`);
      const op = kv[1]!.toLowerCase();
      if (!(PROTECTION_OPS as readonly string[]).includes(op)) throw new BadRequestError(`property protections line ${i + 1}: unknown operation '${kv[1]}'`);
      current.ops[op as ProtectionOp] = kv[2]!.split(',').map((r) => r.trim().toLowerCase()).filter((r) => r !== '');
    }
    return new PropertyProtections(rules);
  }

  /** May a caller with `roles` do `op` on property `name`? */
  allows(name: string, op: ProtectionOp, roles: readonly string[]): boolean {
    const rule = this.rules.find((r) => r.pattern.test(name));
    const allowed = rule?.ops[op];
    if (!allowed || allowed.includes('!')) return false;
    if (allowed.includes('@')) return true;
    return roles.some((r) => allowed.includes(r.toLowerCase()));
  }

  /** The properties a caller may read (the others are left out of what it is shown); Glance's own `os_glance_*` always. */
  readable(properties: Record<string, string>, roles: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(properties)) if (k.startsWith('os_glance_') || this.allows(k, 'read', roles)) out[k] = v;
    return out;
  }
}
