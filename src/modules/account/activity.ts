/** One thing a resident has with the council, as shown on "Your council activity". */
export interface ActivityItem {
  kind: string;
  title: string;
  reference?: string;
  status?: string;
  updatedAt?: Date;
  href?: string;
}

/** Each capability registers a provider saying what a resident owns in it. */
export interface ActivityProvider {
  /** Heading on the account home, e.g. "Your reports". */
  heading: string;
  listForResident(residentId: string): Promise<ActivityItem[]>;
  /** Included in "download my data". */
  exportForResident?(residentId: string): Promise<unknown>;
  /** Called before an account is deleted: detach or anonymise what the capability keeps. */
  onResidentDeleted?(residentId: string): Promise<void>;
}

export class ActivityRegistry {
  private readonly providers: ActivityProvider[] = [];
  register(provider: ActivityProvider): void {
    this.providers.push(provider);
  }
  all(): readonly ActivityProvider[] {
    return this.providers;
  }
}
