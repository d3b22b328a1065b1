/** What the scheduler's aggregate and server-group verbs reply with, shared by the API and the scheduler. */
export type ServerGroupPolicy = 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity';

export interface AggregateView {
  id: number;
  uuid: string;
  name: string;
  availabilityZone: string | null;
  metadata: Record<string, string>;
  hosts: string[];
  createdAt: string;
  updatedAt: string;
}

export interface ServerGroupView {
  id: string;
  name: string;
  policy: ServerGroupPolicy;
  rules: { max_server_per_host?: number };
  members: string[];
  projectId: string;
  userId: string;
}
