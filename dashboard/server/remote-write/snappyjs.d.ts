// Types for snappyjs (pure-JS Snappy, block format), which ships none: only what the remote-write
// encoder uses. Each function returns the same kind of buffer it is given.
declare module 'snappyjs' {
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
  /** Throws when the data is not a Snappy block or would unpack to more than maxLength bytes. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
}
