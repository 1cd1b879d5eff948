/**
 * The `SecretStore` port: where PATs live (Secrets Manager in AWS, an encrypted file locally).
 * The database keeps only the returned reference.
 */
export interface SecretStore {
  /** Stores (or replaces) the secret of a configuration; returns its reference. */
  put(configurationId: string, secret: string): Promise<string>;
  get(ref: string): Promise<string>;
  delete(ref: string): Promise<void>;
}
