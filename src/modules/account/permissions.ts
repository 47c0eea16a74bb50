import { HttpError } from '#platform/http/errors';

export const ROLES = {
  administrator: 'Administrator',
  'case-officer': 'Case officer',
  'team-leader': 'Team leader',
  'safeguarding-officer': 'Safeguarding officer',
  'safeguarding-lead': 'Safeguarding lead',
  'information-governance': 'Information governance lead',
  'content-editor': 'Content editor',
  'directory-moderator': 'Directory moderator',
  manager: 'Manager',
} as const;

export type Role = keyof typeof ROLES;

/** Everything a staff member may be allowed to do. Capabilities add theirs here. */
export const PERMISSIONS = [
  'staff:manage',
  'audit:read',
  'messages:read',
  'cases:work',
  'cases:reassign',
  'signposts:search',
  'signposts:review',
  'signposts:govern',
  'content:edit',
  'directory:moderate',
  'insights:read',
  'forms:read',
  'forms:retry',
  'forms:assist',
  'forms:publish',
  'api-keys:manage',
  'reports:moderate',
  'appointments:manage',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** The permission matrix: which roles grant which permissions. Checked in the service layer. */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  administrator: ['staff:manage', 'audit:read', 'messages:read', 'insights:read', 'forms:read', 'forms:retry', 'forms:publish', 'api-keys:manage'],
  'case-officer': ['cases:work', 'forms:read', 'forms:assist', 'reports:moderate', 'appointments:manage'],
  'team-leader': ['cases:work', 'cases:reassign', 'insights:read', 'forms:read', 'forms:retry', 'forms:assist', 'reports:moderate', 'appointments:manage'],
  'safeguarding-officer': ['signposts:search', 'signposts:review', 'cases:work'],
  'safeguarding-lead': ['signposts:search', 'signposts:review', 'cases:work'],
  'information-governance': ['signposts:govern', 'audit:read'],
  'content-editor': ['content:edit'],
  'directory-moderator': ['directory:moderate'],
  manager: ['insights:read'],
};

export function isRole(value: string): value is Role {
  return Object.hasOwn(ROLES, value);
}

export function permissionsFor(roles: readonly string[]): Set<Permission> {
  const granted = new Set<Permission>();
  for (const role of roles) if (isRole(role)) for (const p of ROLE_PERMISSIONS[role]) granted.add(p);
  return granted;
}

export function can(staff: { roles: readonly string[]; status?: string } | null | undefined, permission: Permission): boolean {
  if (!staff || (staff.status && staff.status !== 'active')) return false;
  return permissionsFor(staff.roles).has(permission);
}

/** Throws a 403 unless the staff member holds the permission. Call it in services, not only routes. */
export function assertCan(staff: { roles: readonly string[]; status?: string } | null | undefined, permission: Permission): void {
  if (!can(staff, permission)) throw new HttpError(403, 'You do not have permission to do this.');
}
