/** A page the router shows: built detached, mounted once in the document, destroyed on leave. */
export interface Page {
  readonly el: HTMLElement;
  mount(): void;
  destroy(): void;
  /** Called after the live socket reconnected (samples may have been missed meanwhile). */
  resync?(): void;
}
