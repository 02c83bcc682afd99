// Which tenant's events tail shows. The status event stream carries each entry's tenant (`t`), and the API key names
// one tenant, which no endpoint tells. So: --tenant when given; with no API key, every tenant; else it is learnt from
// the first event whose notification the key can read with the same created_at (ids are per tenant, and one tenant's
// id with its creation time to the millisecond is that notification). A tenant whose notification the key cannot
// read is another's.
import { failureOf, seg, type Api } from './client.js';

export interface EventFacts {
  tenant: string;
  notificationId: string;
  createdAt: number;
}

export class TenantFilter {
  private readonly others = new Set<string>();

  constructor(private readonly api: Api | undefined, private tenant?: string) {}

  /** The tenant shown (undefined: not known yet, or every tenant). */
  get current(): string | undefined {
    return this.tenant;
  }

  /** Every tenant's events are shown (no --tenant and no API key). */
  get everyTenant(): boolean {
    return this.tenant === undefined && this.api === undefined;
  }

  async admits(ev: EventFacts): Promise<boolean> {
    if (this.tenant !== undefined) return ev.tenant === this.tenant;
    if (this.api === undefined) return true;
    if (this.others.has(ev.tenant) || ev.notificationId === '') return false;
    const r = await this.api.request<{ created_at?: string }>('GET', `/v1/notifications/${seg(ev.notificationId)}`);
    if (r.status === 200 && Date.parse(r.body.created_at ?? '') === ev.createdAt) {
      this.tenant = ev.tenant;
      return true;
    }
    if (r.status === 200 || r.status === 404) this.others.add(ev.tenant);
    else if (r.status === 401) throw failureOf(r);
    return false;
  }
}
